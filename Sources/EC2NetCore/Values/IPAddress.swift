/// An address of either family; what IMDS lists per ENI and what a rule's `From=` names.
public enum IPAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    case v4(IPv4Address)
    case v6(IPv6Address)

    /// Parses either family; nil when the text is neither.
    public init?(_ text: some StringProtocol) {
        if let v4 = IPv4Address(text) { self = .v4(v4) }
        else if let v6 = IPv6Address(text) { self = .v6(v6) }
        else { return nil }
    }

    /// The address family.
    public var family: IPFamily {
        switch self {
        case .v4: return .ipv4
        case .v6: return .ipv6
        }
    }

    /// Bits in an address of this family (32 or 128).
    public var bitWidth: Int { family.bitWidth }

    public var description: String {
        switch self {
        case .v4(let address): return address.description
        case .v6(let address): return address.description
        }
    }

    /// IPv4 sorts before IPv6; within a family, numerically.
    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        switch (lhs, rhs) {
        case (.v4(let a), .v4(let b)): return a < b
        case (.v6(let a), .v6(let b)): return a < b
        case (.v4, .v6): return true
        case (.v6, .v4): return false
        }
    }

    /// The address as 128 bits, left-aligned (IPv4 in the top 32), for prefix math
    /// without building byte arrays.
    var bits: (high: UInt64, low: UInt64) {
        switch self {
        case .v4(let address): return (UInt64(address.value) << 32, 0)
        case .v6(let address): return (address.high, address.low)
        }
    }

    /// A mask of the first `length` of 128 bits, as two halves.
    static func mask(length: Int) -> (high: UInt64, low: UInt64) {
        func ones(_ count: Int) -> UInt64 { count <= 0 ? 0 : count >= 64 ? ~0 : ~0 << UInt64(64 - count) }
        return (ones(length), ones(length - 64))
    }
}

/// An address family, named as networkd's `Family=` spells it.
public enum IPFamily: String, Hashable, Comparable, Sendable, CaseIterable {
    case ipv4
    case ipv6

    /// Bits in an address of this family.
    public var bitWidth: Int { self == .ipv4 ? 32 : 128 }

    public static func < (lhs: IPFamily, rhs: IPFamily) -> Bool { lhs == .ipv4 && rhs == .ipv6 }
}
