/// Reads typed leaves below one metadata directory, naming the full path in every error.
struct LeafReader {
    /// The document read.
    let document: MetadataDocument
    /// The directory the keys are relative to.
    let base: [String]
    /// The directory's members, looked up once: each leaf is then one dictionary lookup,
    /// not a walk from the document's root.
    private let members: [String: JSONValue]

    init(document: MetadataDocument, base: [String]) throws(InputError) {
        self.document = document
        self.base = base
        members = try document.directory(base)
    }

    /// A single-valued key: the whole body must parse, so `1\n[Network]` is rejected
    /// rather than read as `1`.
    func single<T>(_ key: InterfaceKey, expected: String, _ convert: (String) -> T?) throws(InputError) -> T? {
        try single(key.rawValue, expected: expected, convert)
    }

    func single<T>(_ key: String, expected: String, _ convert: (String) -> T?) throws(InputError) -> T? {
        guard let body = try MetadataDocument.body(of: members[key], path: base + [key]) else { return nil }
        guard let value = convert(body) else {
            throw .invalidValue(path: (base + [key]).joined(separator: "/"), value: body, expected: expected)
        }
        return value
    }

    /// A list key: one entry per line; blank lines (a trailing newline) are ignored and
    /// duplicates collapse, keeping first-seen order because the first entry is the
    /// DHCP-assigned one.
    func list<T: Comparable>(_ key: InterfaceKey, expected: String, _ convert: (Substring) -> T?) throws(InputError) -> [T] {
        try list(key.rawValue, expected: expected, convert)
    }

    func list<T: Comparable>(_ key: String, expected: String, _ convert: (Substring) -> T?) throws(InputError) -> [T] {
        guard let body = try MetadataDocument.body(of: members[key], path: base + [key]) else { return [] }
        // Split at newline bytes into substrings: splitting by Character, or a String per
        // line, costs several times more, and a 50-address list is the common case.
        var text = body
        let lines: [Range<Int>] = text.withUTF8 { bytes in
            var ranges: [Range<Int>] = [], start = 0
            for (offset, byte) in bytes.enumerated() where byte == 0x0A {
                if offset > start { ranges.append(start..<offset) }
                start = offset + 1
            }
            if bytes.count > start { ranges.append(start..<bytes.count) }
            return ranges
        }
        var values: [T] = []
        values.reserveCapacity(lines.count)
        let utf8 = text.utf8
        for range in lines {
            let line = text[utf8.index(utf8.startIndex, offsetBy: range.lowerBound)..<utf8.index(utf8.startIndex, offsetBy: range.upperBound)]
            guard let value = convert(line) else {
                throw .invalidValue(path: (base + [key]).joined(separator: "/"), value: String(line), expected: expected)
            }
            values.append(value)
        }
        return uniqueKeepingOrder(values)
    }
}

/// `values` without repeats, first occurrences in their order. By sorting positions, not
/// hashing: a comparison of two addresses is a few instructions, a hash of one a few
/// hundred.
func uniqueKeepingOrder<T: Comparable>(_ values: [T]) -> [T] {
    guard values.count > 1 else { return values }
    let order = values.indices.sorted { values[$0] != values[$1] ? values[$0] < values[$1] : $0 < $1 }
    var repeated = [Bool](repeating: false, count: values.count)
    var any = false
    for position in order.indices.dropFirst() where values[order[position]] == values[order[position - 1]] {
        repeated[order[position]] = true
        any = true
    }
    guard any else { return values }
    return values.indices.filter { !repeated[$0] }.map { values[$0] }
}
