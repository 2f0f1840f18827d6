/// Reads systemd-style INI text (`ec2-netgen.conf`): sections, `Key=Value`, `#`/`;`
/// comments. Keeps line numbers so every error can say `file:line`.
public enum INIParser {
    /// One `Key=Value` line.
    public struct Entry: Equatable, Sendable {
        public var key: String
        public var value: String
        public var line: Int
    }

    /// One section with where it starts.
    public struct Section: Equatable, Sendable {
        public var name: String
        public var line: Int
        public var entries: [Entry]
    }

    /// Parses `text`; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws(InputError) -> [Section] {
        var sections: [Section] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            let line = trim(rawLine)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]"), line.count > 2 else {
                    throw .config(file: file, line: number, message: "malformed section header \(quoted(line))")
                }
                sections.append(Section(name: String(line.dropFirst().dropLast()), line: number, entries: []))
                continue
            }
            guard let equals = line.firstIndex(of: "=") else {
                throw .config(file: file, line: number, message: "expected Key=Value, found \(quoted(line))")
            }
            guard !sections.isEmpty else {
                throw .config(file: file, line: number, message: "assignment outside of a section")
            }
            let key = trim(line[..<equals]), value = trim(line[line.index(after: equals)...])
            guard !key.isEmpty else { throw .config(file: file, line: number, message: "empty key") }
            sections[sections.count - 1].entries.append(Entry(key: key, value: value, line: number))
        }
        return sections
    }

    /// Strips blanks and a CR at both ends.
    static func trim(_ text: some StringProtocol) -> String {
        let blanks: Set<Character> = [" ", "\t", "\r"]
        var slice = Substring(text)
        while let first = slice.first, blanks.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, blanks.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
