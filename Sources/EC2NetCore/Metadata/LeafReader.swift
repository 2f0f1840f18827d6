/// Reads typed leaves below one metadata directory, naming the full path in every error.
struct LeafReader {
    /// The document read.
    let document: MetadataDocument
    /// The directory the keys are relative to.
    let base: [String]

    /// A single-valued key: the whole body must parse, so `1\n[Network]` is rejected
    /// rather than read as `1`.
    func single<T>(_ key: String, expected: String, _ convert: (String) -> T?) throws(InputError) -> T? {
        guard let body = try document.body(base + [key]) else { return nil }
        guard let value = convert(body) else {
            throw .invalidValue(path: (base + [key]).joined(separator: "/"), value: body, expected: expected)
        }
        return value
    }

    /// A list key: one entry per line; blank lines (a trailing newline) are ignored and
    /// duplicates collapse, keeping first-seen order because the first entry is the
    /// DHCP-assigned one.
    func list<T: Hashable>(_ key: String, expected: String, _ convert: (String) -> T?) throws(InputError) -> [T] {
        guard let body = try document.body(base + [key]) else { return [] }
        var values: [T] = []
        var seen: Set<T> = []
        // Split on UTF-8 bytes: splitting a String by Character costs several times more,
        // and a 50-address list is the common case.
        for line in body.utf8.split(separator: 0x0A, omittingEmptySubsequences: true) {
            let text = String(decoding: line, as: UTF8.self)
            guard let value = convert(text) else {
                throw .invalidValue(path: (base + [key]).joined(separator: "/"), value: text, expected: expected)
            }
            if seen.insert(value).inserted { values.append(value) }
        }
        return values
    }
}
