/// An IPv6 address.
///
/// Accepts every RFC 4291 text form (compressed `::`, embedded dotted IPv4 tail) except
/// zone indexes, which have no meaning in IMDS. Prints RFC 5952 canonical text, so equal
/// addresses always render to equal bytes.
public struct IPv6Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The high and low 64 bits. Stored inline, not as an array of groups: an instance
    /// has thousands of addresses, and a heap buffer per address made parse, plan and
    /// render spend a fifth of their instructions on reference counting (callgrind).
    public let high: UInt64
    public let low: UInt64

    /// Creates an address from its two 64-bit halves.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Creates an address from eight groups.
    public init(groups: [UInt16]) {
        precondition(groups.count == 8, "an IPv6 address has eight groups")
        var high: UInt64 = 0, low: UInt64 = 0
        for index in 0..<4 { high = high << 16 | UInt64(groups[index]) }
        for index in 4..<8 { low = low << 16 | UInt64(groups[index]) }
        self.init(high: high, low: low)
    }

    /// The eight 16-bit groups, most significant first.
    public var groups: [UInt16] { (0..<8).map { group($0) } }

    /// Group `index` (0 is the most significant).
    @inline(__always)
    func group(_ index: Int) -> UInt16 {
        let half = index < 4 ? high : low
        return UInt16(truncatingIfNeeded: half >> UInt64(48 - 16 * (index & 3)))
    }

    /// Parses IPv6 text; returns nil for anything that is not exactly one address.
    public init?(_ text: some StringProtocol) {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= 45 else { return nil }
        // Split at the one allowed "::" into a head and a tail of groups.
        var compression: Int?
        var index = 0
        while index + 1 < bytes.count {
            if bytes[index] == UInt8(ascii: ":") && bytes[index + 1] == UInt8(ascii: ":") {
                guard compression == nil else { return nil }
                compression = index
                index += 2
                continue
            }
            index += 1
        }
        if let compression {
            guard let head = Self.parseGroups(bytes[0..<compression], allowIPv4Tail: false),
                  let tail = Self.parseGroups(bytes[(compression + 2)...], allowIPv4Tail: true),
                  head.count + tail.count <= 7 else { return nil }
            self.init(groups: head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail)
        } else {
            guard let groups = Self.parseGroups(bytes[...], allowIPv4Tail: true), groups.count == 8 else { return nil }
            self.init(groups: groups)
        }
    }

    /// Parses colon-separated groups; an empty slice is zero groups.
    private static func parseGroups(_ bytes: ArraySlice<UInt8>, allowIPv4Tail: Bool) -> [UInt16]? {
        if bytes.isEmpty { return [] }
        var groups: [UInt16] = []
        var start = bytes.startIndex
        while true {
            let end = bytes[start...].firstIndex(of: UInt8(ascii: ":")) ?? bytes.endIndex
            let part = bytes[start..<end]
            if end == bytes.endIndex, allowIPv4Tail, part.contains(UInt8(ascii: ".")) {
                guard let v4 = IPv4Address(String(decoding: part, as: UTF8.self)) else { return nil }
                groups.append(UInt16(v4.value >> 16))
                groups.append(UInt16(v4.value & 0xffff))
                return groups
            }
            guard (1...4).contains(part.count) else { return nil }
            var group: UInt16 = 0
            for byte in part {
                guard let digit = hexDigitValue(byte) else { return nil }
                group = group << 4 | UInt16(digit)
            }
            groups.append(group)
            if end == bytes.endIndex { return groups }
            start = end + 1
            guard start < bytes.endIndex else { return nil }  // a trailing single ":"
        }
    }

    /// True for `::ffff:a.b.c.d`, which names an IPv4 host and must never be routed as IPv6.
    public var isIPv4Mapped: Bool {
        high == 0 && low >> 32 == 0xffff
    }

    /// RFC 5952 text: lowercase, no leading zeros, the longest run (first on a tie) of two
    /// or more zero groups compressed to `::`.
    public var description: String {
        return String(unsafeUninitializedCapacity: 39) { buffer in write(into: buffer, at: 0) }
    }

    /// Writes the RFC 5952 text into `buffer` at `start`; returns the end offset.
    func write(into buffer: UnsafeMutableBufferPointer<UInt8>, at start: Int) -> Int {
        var bestStart = -1, bestLength = 0, runStart = -1
        for index in 0...8 {
            if index < 8 && group(index) == 0 {
                if runStart < 0 { runStart = index }
            } else if runStart >= 0 {
                let length = index - runStart
                if length > bestLength && length >= 2 { bestStart = runStart; bestLength = length }
                runStart = -1
            }
        }
        var position = start
        func hex(_ range: Range<Int>) {
            for index in range {
                if index != range.lowerBound {
                    buffer[position] = UInt8(ascii: ":")
                    position += 1
                }
                let value = group(index)
                var started = false
                for shift in [12, 8, 4, 0] as [UInt16] {
                    let digit = Int(value >> shift & 0xf)
                    if digit != 0 || started || shift == 0 {
                        buffer[position] = digit < 10 ? UInt8(ascii: "0") + UInt8(digit) : UInt8(ascii: "a") + UInt8(digit - 10)
                        position += 1
                        started = true
                    }
                }
            }
        }
        if bestStart < 0 {
            hex(0..<8)
        } else {
            hex(0..<bestStart)
            buffer[position] = UInt8(ascii: ":")
            buffer[position + 1] = UInt8(ascii: ":")
            position += 2
            hex((bestStart + bestLength)..<8)
        }
        return position
    }

    public static func < (lhs: IPv6Address, rhs: IPv6Address) -> Bool {
        lhs.high != rhs.high ? lhs.high < rhs.high : lhs.low < rhs.low
    }
}
