/// A 48-bit Ethernet MAC address, the key that joins IMDS (`macs/<mac>/`) to a kernel link.
///
/// Parsed strictly from the colon form IMDS and sysfs use; printed lowercase so that two
/// spellings of one address compare equal and render the same bytes.
public struct MACAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The six octets, most significant first.
    public let octets: [UInt8]

    /// Parses `02:ab:cd:ef:01:23` (either case). Anything else, including `/` or `..`
    /// smuggled into a path segment, returns nil.
    public init?(_ text: some StringProtocol) {
        let bytes = Array(text.utf8)
        guard bytes.count == 17 else { return nil }
        var octets: [UInt8] = []
        octets.reserveCapacity(6)
        for index in 0..<6 {
            let offset = index * 3
            if index > 0 && bytes[offset - 1] != UInt8(ascii: ":") { return nil }
            guard let high = hexDigitValue(bytes[offset]), let low = hexDigitValue(bytes[offset + 1]) else {
                return nil
            }
            octets.append(high << 4 | low)
        }
        self.octets = octets
    }

    /// Lowercase colon form, as IMDS lists it.
    public var description: String {
        octets.map { hexByte($0) }.joined(separator: ":")
    }

    /// Twelve hex digits without separators; used in file names, where `:` is awkward.
    public var compact: String {
        octets.map { hexByte($0) }.joined()
    }

    public static func < (lhs: MACAddress, rhs: MACAddress) -> Bool {
        lhs.octets.lexicographicallyPrecedes(rhs.octets)
    }
}

/// The value of one ASCII hex digit, or nil.
func hexDigitValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
    default: return nil
    }
}

/// Two lowercase hex digits for one byte.
func hexByte(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]])
}
