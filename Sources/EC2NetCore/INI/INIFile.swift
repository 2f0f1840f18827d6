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
        // Appending UTF-8 bytes and decoding once is several times cheaper than growing a
        // String line by line; rendering 16 large ENIs writes ~25 000 lines.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(128 + sections.count * 80)
        for comment in comments {
            bytes.append(contentsOf: "# ".utf8)
            bytes.append(contentsOf: comment.utf8)
            bytes.append(0x0A)
        }
        for (index, section) in sections.enumerated() {
            if index > 0 || !comments.isEmpty { bytes.append(0x0A) }
            bytes.append(UInt8(ascii: "["))
            bytes.append(contentsOf: section.name.utf8)
            bytes.append(contentsOf: "]\n".utf8)
            for entry in section.entries {
                // Values come from typed plan values; a line break here would be a bug
                // that lets one key inject another, so it is caught in debug builds.
                assert(!entry.value.contains("\n") && !entry.key.contains("="), "INI entry must be one line")
                bytes.append(contentsOf: entry.key.utf8)
                bytes.append(UInt8(ascii: "="))
                bytes.append(contentsOf: entry.value.utf8)
                bytes.append(0x0A)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
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
