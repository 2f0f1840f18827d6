/// A systemd-style INI file: leading comment lines, then sections of `Key=Value` lines.
/// The one model every rendered file goes through, so escaping and layout live in one
/// place.
public struct INIFile: Equatable, Sendable {
    /// `#` comment lines at the top, without the `#`.
    public var comments: [String]
    /// Sections in output order; a name may repeat (`[Route]`, `[Address]`).
    public var sections: [INISection]

    /// Creates a file.
    public init(comments: [String] = [], sections: [INISection] = []) {
        self.comments = comments
        self.sections = sections
    }

    /// The file's bytes: comments, then sections separated by one blank line, LF endings.
    public func serialized() -> String {
        var lines = comments.map { "# " + $0 }
        for (index, section) in sections.enumerated() {
            if index > 0 || !lines.isEmpty { lines.append("") }
            lines.append("[" + section.name + "]")
            for entry in section.entries {
                // Values come from typed plan values; a line break here would be a bug
                // that lets one key inject another, so it is caught in debug builds.
                assert(!entry.value.contains("\n") && !entry.key.contains("="), "INI entry must be one line")
                lines.append(entry.key + "=" + entry.value)
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// One `[Name]` section with its entries in order; keys may repeat.
public struct INISection: Equatable, Sendable {
    /// Section name without brackets.
    public var name: String
    /// `Key=Value` pairs in order.
    public var entries: [(key: String, value: String)]

    /// Creates a section.
    public init(_ name: String, _ entries: [(key: String, value: String)] = []) {
        self.name = name
        self.entries = entries
    }

    /// Appends one entry.
    public mutating func append(_ key: String, _ value: String) {
        entries.append((key: key, value: value))
    }

    public static func == (lhs: INISection, rhs: INISection) -> Bool {
        lhs.name == rhs.name && lhs.entries.elementsEqual(rhs.entries) { $0.key == $1.key && $0.value == $1.value }
    }
}
