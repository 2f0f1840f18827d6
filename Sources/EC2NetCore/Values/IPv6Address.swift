/// An IPv6 address.
///
/// Accepts every RFC 4291 text form (compressed `::`, embedded dotted IPv4 tail) except
/// zone indexes, which have no meaning in IMDS. Prints RFC 5952 canonical text, so equal
/// addresses always render to equal bytes.
public struct IPv6Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The eight 16-bit groups, most significant first.
    public let groups: [UInt16]

    /// Creates an address from eight groups.
    public init(groups: [UInt16]) {
        precondition(groups.count == 8, "an IPv6 address has eight groups")
        self.groups = groups
    }

    /// Parses IPv6 text; returns nil for anything that is not exactly one address.
    public init?(_ text: some StringProtocol) {
        let text = String(text)
        guard !text.isEmpty, text.utf8.count <= 45 else { return nil }
        let halves = text.components(separatedByString: "::")
        switch halves.count {
        case 1:
            guard let groups = Self.parseGroups(halves[0], allowIPv4Tail: true), groups.count == 8 else {
                return nil
            }
            self.groups = groups
        case 2:
            guard let head = Self.parseGroups(halves[0], allowIPv4Tail: false),
                  let tail = Self.parseGroups(halves[1], allowIPv4Tail: true),
                  head.count + tail.count <= 7 else { return nil }
            self.groups = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        default:
            return nil
        }
    }

    /// Parses colon-separated groups; an empty string is zero groups.
    private static func parseGroups(_ text: String, allowIPv4Tail: Bool) -> [UInt16]? {
        if text.isEmpty { return [] }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        var groups: [UInt16] = []
        for (index, part) in parts.enumerated() {
            if index == parts.count - 1, allowIPv4Tail, part.contains(".") {
                guard let v4 = IPv4Address(part) else { return nil }
                groups.append(UInt16(v4.value >> 16))
                groups.append(UInt16(v4.value & 0xffff))
                continue
            }
            let bytes = Array(part.utf8)
            guard (1...4).contains(bytes.count) else { return nil }
            var group: UInt16 = 0
            for byte in bytes {
                guard let digit = hexDigitValue(byte) else { return nil }
                group = group << 4 | UInt16(digit)
            }
            groups.append(group)
        }
        return groups
    }

    /// True for `::ffff:a.b.c.d`, which names an IPv4 host and must never be routed as IPv6.
    public var isIPv4Mapped: Bool {
        groups[0..<5].allSatisfy { $0 == 0 } && groups[5] == 0xffff
    }

    /// RFC 5952 text: lowercase, no leading zeros, the longest run (first on a tie) of two
    /// or more zero groups compressed to `::`.
    public var description: String {
        var bestStart = -1, bestLength = 0, runStart = -1
        for index in 0...8 {
            if index < 8 && groups[index] == 0 {
                if runStart < 0 { runStart = index }
            } else if runStart >= 0 {
                let length = index - runStart
                if length > bestLength && length >= 2 { bestStart = runStart; bestLength = length }
                runStart = -1
            }
        }
        func hex(_ range: Range<Int>) -> String {
            groups[range].map { String($0, radix: 16) }.joined(separator: ":")
        }
        if bestStart < 0 { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }

    public static func < (lhs: IPv6Address, rhs: IPv6Address) -> Bool {
        lhs.groups.lexicographicallyPrecedes(rhs.groups)
    }
}

extension String {
    /// Splits on a multi-character separator without Foundation.
    func components(separatedByString separator: String) -> [String] {
        var result: [String] = []
        var rest = Substring(self)
        while let range = rest.firstRange(of: separator) {
            result.append(String(rest[..<range.lowerBound]))
            rest = rest[range.upperBound...]
        }
        result.append(String(rest))
        return result
    }
}
