/// A CIDR prefix (`10.0.2.0/24`, `2600:1f14::/56`): a subnet, a VPC block or a delegated
/// prefix.
///
/// Host bits must be zero: IMDS always reports network addresses, so anything else is a
/// corrupted value and is rejected rather than silently masked.
public struct IPPrefix: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The network address.
    public let address: IPAddress
    /// The prefix length in bits.
    public let length: Int

    /// Creates a prefix; returns nil when the length is out of range or host bits are set.
    public init?(address: IPAddress, length: Int) {
        guard (0...address.bitWidth).contains(length) else { return nil }
        let bits = address.bits, mask = IPAddress.mask(length: length)
        guard bits.high & ~mask.high == 0, bits.low & ~mask.low == 0 else { return nil }
        self.address = address
        self.length = length
    }

    /// A host prefix (/32 or /128) for one address.
    public init(host: IPAddress) {
        self.address = host
        self.length = host.bitWidth
    }

    /// Parses `ADDRESS/LENGTH`.
    public init?(_ text: some StringProtocol) {
        let text = Substring(text)
        guard let slash = text.utf8.firstIndex(of: UInt8(ascii: "/")) else { return nil }
        let rest = text[text.utf8.index(after: slash)...]
        guard !rest.utf8.contains(UInt8(ascii: "/")), let address = IPAddress(text[..<slash]),
              let length = parseDecimal(rest, max: address.bitWidth) else { return nil }
        self.init(address: address, length: length)
    }

    /// The address family.
    public var family: IPFamily { address.family }

    /// True when `other` lies inside this prefix.
    public func contains(_ other: IPAddress) -> Bool {
        guard other.family == family else { return false }
        let mine = address.bits, theirs = other.bits, mask = IPAddress.mask(length: length)
        return (mine.high ^ theirs.high) & mask.high == 0 && (mine.low ^ theirs.low) & mask.low == 0
    }

    /// True when the two prefixes share any address.
    public func overlaps(_ other: IPPrefix) -> Bool {
        contains(other.address) || other.contains(address)
    }

    /// The VPC router's address in an IPv4 subnet: the network address + 1, which EC2
    /// reserves for it in every subnet; nil for IPv6 and for prefixes too small to hold it.
    public var vpcRouter: IPv4Address? {
        guard case .v4(let network) = address, length <= 30 else { return nil }
        return IPv4Address(network.value + 1)
    }

    /// Every address of an IPv4 prefix, in order; empty for IPv6 or prefixes wider than
    /// /24 (assigning more than 256 addresses from a prefix is never what is meant).
    public var ipv4Hosts: [IPv4Address] {
        guard case .v4(let network) = address, length >= 24 else { return [] }
        let count = UInt32(1) << UInt32(32 - length)
        return (0..<count).map { IPv4Address(network.value + $0) }
    }

    public var description: String {
        String(unsafeUninitializedCapacity: 43) { buffer in write(into: buffer, at: 0) }
    }

    /// Writes `ADDRESS/LENGTH` into `buffer` (43 bytes hold the longest) at `start`;
    /// returns the end offset.
    func write(into buffer: UnsafeMutableBufferPointer<UInt8>, at start: Int) -> Int {
        var position: Int
        switch address {
        case .v4(let v4): position = v4.write(into: buffer, at: start)
        case .v6(let v6): position = v6.write(into: buffer, at: start)
        }
        buffer[position] = UInt8(ascii: "/")
        return writeDecimal(length, into: buffer, at: position + 1)
    }

    public static func < (lhs: IPPrefix, rhs: IPPrefix) -> Bool {
        lhs.address != rhs.address ? lhs.address < rhs.address : lhs.length < rhs.length
    }
}
