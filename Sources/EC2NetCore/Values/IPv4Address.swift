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
        var text = Substring(text)  // withUTF8: one contiguous buffer, no generic slice walk
        guard let address = text.withUTF8({ IPv4Address(utf8: $0) }) else { return nil }
        self = address
    }

    /// Parses the UTF-8 bytes of `10.0.1.20` (the IPv6 parser's dotted tail).
    init?(utf8: some Sequence<UInt8>) {
        var value: UInt32 = 0
        var octets = 0
        var octet = 0
        var digits = 0
        var leadingZero = false
        for byte in utf8 {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, octets < 3 else { return nil }
                value = value << 8 | UInt32(octet)
                octets += 1
                octet = 0
                digits = 0
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            // No leading zeros: inet_aton would read "010" as octal 8.
            if digits == 1 && leadingZero { return nil }
            if digits == 0 { leadingZero = byte == UInt8(ascii: "0") }
            octet = octet * 10 + Int(byte - UInt8(ascii: "0"))
            digits += 1
            guard octet <= 255 else { return nil }
        }
        guard digits > 0, octets == 3 else { return nil }
        self.value = value << 8 | UInt32(octet)
    }

    /// Dotted-quad text. Built byte by byte: rendering prints thousands of addresses, and
    /// string interpolation costs several times more.
    public var description: String {
        String(unsafeUninitializedCapacity: 15) { buffer in write(into: buffer, at: 0) }
    }

    /// Writes the dotted quad into `buffer` at `start`; returns the end offset.
    func write(into buffer: UnsafeMutableBufferPointer<UInt8>, at start: Int) -> Int {
        var position = start
        for shift in [24, 16, 8, 0] as [UInt32] {
            if shift != 24 {
                buffer[position] = UInt8(ascii: ".")
                position += 1
            }
            position = writeDecimal(Int(value >> shift & 0xff), into: buffer, at: position)
        }
        return position
    }

    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool { lhs.value < rhs.value }
}

/// Parses 1–3 (or more for larger bounds) decimal digits without a leading zero.
/// A plain decimal in 0...max (ASCII digits only), or nil. The one number parser for
/// metadata and configuration values.
public func parseDecimal(_ text: some StringProtocol, max: Int) -> Int? {
    // No arrays, no String of `max`: every device number, prefix length and configuration
    // number goes through here.
    var maxDigits = 1, bound = max
    while bound >= 10 { bound /= 10; maxDigits += 1 }
    var value = 0, digits = 0, leadingZero = false
    for byte in text.utf8 {
        guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), digits < maxDigits else { return nil }
        if digits == 0 { leadingZero = byte == UInt8(ascii: "0") } else if leadingZero { return nil }
        value = value * 10 + Int(byte - UInt8(ascii: "0"))
        digits += 1
    }
    return digits > 0 && value <= max ? value : nil
}

/// Writes the decimal digits of a small non-negative number; returns the end offset.
func writeDecimal(_ number: Int, into buffer: UnsafeMutableBufferPointer<UInt8>, at start: Int) -> Int {
    var position = start
    if number >= 100 {
        buffer[position] = UInt8(ascii: "0") + UInt8(number / 100)
        position += 1
    }
    if number >= 10 {
        buffer[position] = UInt8(ascii: "0") + UInt8(number / 10 % 10)
        position += 1
    }
    buffer[position] = UInt8(ascii: "0") + UInt8(number % 10)
    return position + 1
}
