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

    /// The bits of the address as 16 bytes (IPv4 in the first four); used for prefix math.
    var bytes: [UInt8] {
        switch self {
        case .v4(let address):
            return [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: address.value >> $0) }
        case .v6(let address):
            return address.groups.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
        }
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
