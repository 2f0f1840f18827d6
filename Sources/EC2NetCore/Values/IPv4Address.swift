/// An IPv4 address.
///
/// Parsing is strict dotted-quad: no leading zeros (inet_aton would read them as octal),
/// no shorthand forms, nothing around the digits.
public struct IPv4Address: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The address in host byte order.
    public let value: UInt32

    /// Creates an address from its 32-bit value.
    public init(_ value: UInt32) { self.value = value }

    /// Parses `10.0.1.20`; returns nil for anything else.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard let octet = parseDecimal(part, max: 255) else { return nil }
            value = value << 8 | UInt32(octet)
        }
        self.value = value
    }

    /// Dotted-quad text.
    public var description: String {
        "\(value >> 24).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
    }

    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.value < rhs.value }
}

/// Parses 1–3 (or more for larger bounds) decimal digits without a leading zero.
func parseDecimal(_ text: some StringProtocol, max: Int) -> Int? {
    let bytes = Array(text.utf8)
    guard !bytes.isEmpty, bytes.count <= String(max).utf8.count else { return nil }
    if bytes.count > 1 && bytes[0] == UInt8(ascii: "0") { return nil }
    var value = 0
    for byte in bytes {
        guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
        value = value * 10 + Int(byte - UInt8(ascii: "0"))
    }
    return value <= max ? value : nil
}
