/// A 48-bit Ethernet MAC address, the key that joins IMDS (`macs/<mac>/`) to a kernel link.
///
/// Parsed strictly from the colon form IMDS and sysfs use; printed lowercase so that two
/// spellings of one address compare equal and render the same bytes.
public struct MACAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The 48 bits, in the low bits of one integer (inline, like IPv6Address: no heap
    /// buffer per address).
    public let value: UInt64

    /// The six octets, most significant first.
    public var octets: [UInt8] { (0..<6).map { octet($0) } }

    /// Octet `index` (0 is the first printed).
    @inline(__always)
    func octet(_ index: Int) -> UInt8 { UInt8(truncatingIfNeeded: value >> UInt64(40 - 8 * index)) }

    /// Parses `02:ab:cd:ef:01:23` (either case). Anything else, including `/` or `..`
    /// smuggled into a path segment, returns nil.
    public init?(_ text: some StringProtocol) {
        let bytes = Array(text.utf8)
        guard bytes.count == 17 else { return nil }
        var value: UInt64 = 0
        for index in 0..<6 {
            let offset = index * 3
            if index > 0 && bytes[offset - 1] != UInt8(ascii: ":") { return nil }
            guard let high = hexDigitValue(bytes[offset]), let low = hexDigitValue(bytes[offset + 1]) else {
                return nil
            }
            value = value << 8 | UInt64(high << 4 | low)
        }
        self.value = value
    }

    /// Lowercase colon form, as IMDS lists it.
    public var description: String {
        String(unsafeUninitializedCapacity: 17) { buffer in write(into: buffer, at: 0, separator: UInt8(ascii: ":")) }
    }

    /// Twelve hex digits without separators; used in file names, where `:` is awkward.
    public var compact: String {
        String(unsafeUninitializedCapacity: 12) { buffer in write(into: buffer, at: 0, separator: nil) }
    }

    /// Writes the lowercase hex digits into `buffer` at `start`, `separator` between
    /// octets; returns the end offset.
    func write(into buffer: UnsafeMutableBufferPointer<UInt8>, at start: Int, separator: UInt8?) -> Int {
        var position = start
        for index in 0..<6 {
            if index > 0, let separator {
                buffer[position] = separator
                position += 1
            }
            let byte = octet(index)
            buffer[position] = hexDigit(byte >> 4)
            buffer[position + 1] = hexDigit(byte & 0x0f)
            position += 2
        }
        return position
    }

    public static func < (lhs: MACAddress, rhs: MACAddress) -> Bool { lhs.value < rhs.value }
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

/// The lowercase ASCII hex digit of a value 0–15.
@inline(__always)
func hexDigit(_ value: UInt8) -> UInt8 {
    value < 10 ? UInt8(ascii: "0") + value : UInt8(ascii: "a") + value - 10
}
