/// An IPv6 address.
///
/// Accepts every RFC 4291 text form (compressed `::`, embedded dotted IPv4 tail) except
/// zone indexes, which have no meaning in IMDS. Prints RFC 5952 canonical text, so equal
/// addresses always render to equal bytes.
public struct IPv6Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The high and low 64 bits. Stored inline, not as an array of groups: an instance
    /// has thousands of addresses, and a heap buffer per address would spend much of
    /// parse, plan and render on reference counting.
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

    /// In fe80::/10, where routers advertise from.
    public var isLinkLocal: Bool { high >> 54 == 0x3FA }

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
        var text = Substring(text)  // withUTF8: one contiguous buffer, no generic slice walk
        guard let halves = text.withUTF8({ Self.parse($0) }) else { return nil }
        self.init(high: halves.high, low: halves.low)
    }

    /// Parses the UTF-8 bytes of one address into its halves, with no allocation: groups
    /// go to a stack buffer, the one `::` is remembered by position and expanded at the
    /// end. An IPv4 dotted tail is allowed only last; `::` may replace one group or more.
    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> (high: UInt64, low: UInt64)? {
        let colon = UInt8(ascii: ":"), dot = UInt8(ascii: ".")
        let end = bytes.count
        guard end > 0, end <= 45 else { return nil }
        return withUnsafeTemporaryAllocation(of: UInt16.self, capacity: 8) { groups -> (high: UInt64, low: UInt64)? in
            var count = 0, compression = -1, index = 0
            if bytes[0] == colon {
                guard end >= 2, bytes[1] == colon else { return nil }
                compression = 0
                index = 2
            }
            while index < end {
                var stop = index, dotted = false
                while stop < end, bytes[stop] != colon {
                    if bytes[stop] == dot { dotted = true }
                    stop += 1
                }
                if dotted {
                    guard stop == end, count <= 6,
                          let v4 = IPv4Address(utf8: UnsafeBufferPointer(rebasing: bytes[index..<stop])) else { return nil }
                    groups[count] = UInt16(v4.value >> 16)
                    groups[count + 1] = UInt16(v4.value & 0xffff)
                    count += 2
                    break
                }
                guard stop - index >= 1, stop - index <= 4, count < 8 else { return nil }
                var group: UInt16 = 0
                for position in index..<stop {
                    guard let digit = hexDigitValue(bytes[position]) else { return nil }
                    group = group << 4 | UInt16(digit)
                }
                groups[count] = group
                count += 1
                if stop == end { break }
                if stop + 1 < end, bytes[stop + 1] == colon {
                    guard compression < 0 else { return nil }
                    compression = count
                    index = stop + 2
                } else {
                    index = stop + 1
                    guard index < end else { return nil }  // a trailing single ":"
                }
            }
            guard compression < 0 ? count == 8 : count <= 7 else { return nil }
            let gap = 8 - count
            var high: UInt64 = 0, low: UInt64 = 0
            for position in 0..<8 {
                let group: UInt16
                if compression < 0 || position < compression { group = groups[position] }
                else if position < compression + gap { group = 0 }
                else { group = groups[position - gap] }
                if position < 4 { high = high << 16 | UInt64(group) } else { low = low << 16 | UInt64(group) }
            }
            return (high, low)
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
        // The longest run (first on a tie) of two or more zero groups becomes "::". Zero
        // groups are found as zero 16-bit lanes of the two halves, no group array built.
        var bestStart = 8, bestLength = 1, runStart = -1
        for index in 0..<8 {
            if group(index) == 0 {
                if runStart < 0 { runStart = index }
                if index &- runStart &+ 1 > bestLength { bestStart = runStart; bestLength = index &- runStart &+ 1 }
            } else {
                runStart = -1
            }
        }
        var position = start
        var index = 0
        while index < 8 {
            if index == bestStart {
                buffer[position] = UInt8(ascii: ":")
                buffer[position &+ 1] = UInt8(ascii: ":")
                position &+= 2
                index &+= bestLength
                continue
            }
            if index > 0 && index != bestStart &+ bestLength {
                buffer[position] = UInt8(ascii: ":")
                position &+= 1
            }
            // Hex digits without leading zeros: as many as the group's significant nibbles.
            let value = group(index)
            var shift = value == 0 ? 0 : (15 &- value.leadingZeroBitCount) / 4 &* 4
            while shift >= 0 {
                buffer[position] = hexDigit(UInt8(truncatingIfNeeded: value &>> UInt16(shift)) & 0x0f)
                position &+= 1
                shift &-= 4
            }
            index &+= 1
        }
        return position
    }

    public static func < (lhs: IPv6Address, rhs: IPv6Address) -> Bool {
        lhs.high != rhs.high ? lhs.high < rhs.high : lhs.low < rhs.low
    }
}
