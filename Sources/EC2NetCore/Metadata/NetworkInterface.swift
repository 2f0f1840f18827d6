/// One ENI as IMDS describes it under `network/interfaces/macs/<mac>/`, every value typed.
public struct NetworkInterface: Equatable, Sendable {
    /// The MAC, the join key to a kernel link.
    public var mac: MACAddress
    /// `device-number`: the attachment index on its network card. Nil only for a MAC with
    /// no addresses, which is never routed.
    public var deviceNumber: Int?
    /// `network-card`; nil on single-card instance types (treated as card 0).
    public var networkCard: Int?
    /// `interface-id` (`eni-…`).
    public var interfaceID: String?
    /// `local-ipv4s`; the first is the one DHCP hands out.
    public var privateIPv4s: [IPv4Address] = []
    /// `ipv6s`; the first is the one DHCPv6 hands out.
    public var ipv6s: [IPv6Address] = []
    /// `ipv4-prefix`: delegated IPv4 prefixes.
    public var ipv4Prefixes: [IPPrefix] = []
    /// `ipv6-prefix`: delegated IPv6 prefixes.
    public var ipv6Prefixes: [IPPrefix] = []
    /// `subnet-ipv4-cidr-block`.
    public var subnetIPv4CIDR: IPPrefix?
    /// `subnet-ipv6-cidr-blocks`.
    public var subnetIPv6CIDRs: [IPPrefix] = []
    /// `vpc-ipv4-cidr-blocks`.
    public var vpcIPv4CIDRs: [IPPrefix] = []
    /// `vpc-ipv6-cidr-blocks`.
    public var vpcIPv6CIDRs: [IPPrefix] = []
    /// `ipv4-associations/`: Elastic IPs, for display only.
    public var elasticIPs: [ElasticIP] = []

    /// Creates an interface with only its MAC known.
    public init(mac: MACAddress) { self.mac = mac }

    /// The card, 0 when IMDS does not report one.
    public var card: Int { networkCard ?? 0 }

    /// True when IMDS lists at least one address or prefix for the ENI. A MAC without any
    /// (EFA-only) is kept in the instance but gets no configuration.
    public var hasAddresses: Bool {
        !privateIPv4s.isEmpty || !ipv6s.isEmpty || !ipv4Prefixes.isEmpty || !ipv6Prefixes.isEmpty
    }
}

/// A public Elastic IP and the private address it maps to.
public struct ElasticIP: Equatable, Comparable, Sendable {
    /// The public address.
    public var publicIP: IPv4Address
    /// The private address of this ENI it is associated with.
    public var privateIP: IPv4Address

    /// Creates an association.
    public init(publicIP: IPv4Address, privateIP: IPv4Address) {
        self.publicIP = publicIP
        self.privateIP = privateIP
    }

    public static func < (lhs: ElasticIP, rhs: ElasticIP) -> Bool { lhs.publicIP < rhs.publicIP }
}
