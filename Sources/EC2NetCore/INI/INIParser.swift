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

    /// Parses `text`; `file` names it in errors. Throws at the first bad line.
    public static func parse(_ text: String, file: String) throws(InputError) -> [Section] {
        var problems: [InputError] = []
        let sections = parse(text, file: file, problems: &problems)
        if let first = problems.first { throw first }
        return sections
    }

    /// Parses `text` as systemd parses a unit file: a bad line is recorded in `problems`
    /// and skipped, and so are the lines of a section whose header is malformed.
    public static func parse(_ text: String, file: String, problems: inout [InputError]) -> [Section] {
        var sections: [Section] = []
        var inBadSection = false
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            let line = trim(rawLine)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]"), line.count > 2 else {
                    problems.append(.config(file: file, line: number, message: "malformed section header \(quoted(line))"))
                    inBadSection = true
                    continue
                }
                inBadSection = false
                sections.append(Section(name: String(line.dropFirst().dropLast()), line: number, entries: []))
                continue
            }
            if inBadSection { continue }
            guard let equals = line.firstIndex(of: "=") else {
                problems.append(.config(file: file, line: number, message: "expected Key=Value, found \(quoted(line))"))
                continue
            }
            guard !sections.isEmpty else {
                problems.append(.config(file: file, line: number, message: "assignment outside of a section"))
                continue
            }
            let key = trim(line[..<equals]), value = trim(line[line.index(after: equals)...])
            guard !key.isEmpty else {
                problems.append(.config(file: file, line: number, message: "empty key"))
                continue
            }
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
