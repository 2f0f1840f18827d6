/// The keys of an ENI's `meta-data/network/interfaces/macs/<mac>/` directory that
/// ec2-netgen reads: the one description of that part of the IMDS tree. The parser reads
/// each by this name, and the IMDS client fetches exactly these, re-reading on a refresh
/// only what `lifetime` says can change; a new key is added here once.
public enum InterfaceKey: String, CaseIterable, Sendable {
    case deviceNumber = "device-number"
    case networkCard = "network-card"
    case interfaceID = "interface-id"
    case localIPv4s = "local-ipv4s"
    case ipv6s = "ipv6s"
    case ipv4Prefix = "ipv4-prefix"
    case ipv6Prefix = "ipv6-prefix"
    case subnetIPv4CIDRBlock = "subnet-ipv4-cidr-block"
    case subnetIPv6CIDRBlocks = "subnet-ipv6-cidr-blocks"
    case vpcIPv4CIDRBlocks = "vpc-ipv4-cidr-blocks"
    case vpcIPv6CIDRBlocks = "vpc-ipv6-cidr-blocks"
    /// Not planned from: it lets a refresh read a VPC's CIDR blocks once for all its ENIs.
    case vpcID = "vpc-id"
    /// A directory: one leaf per Elastic IP, named by the public address, holding the
    /// private one.
    case ipv4Associations = "ipv4-associations"

    /// How long a value holds.
    public enum Lifetime: Sendable {
        /// Fixed while the ENI stays attached, so a refresh takes it from the cache: its
        /// position, its identity, its subnet (an ENI never moves between subnets) and its
        /// VPC. `subnet-ipv6-cidr-blocks` too: a subnet can gain an IPv6 block later, but
        /// then the ENI's first IPv6 address arrives with it, and an ENI that gains IPv6
        /// is re-read whole.
        case attachment
        /// The VPC's: read once per VPC on a refresh.
        case vpc
        /// Addresses, prefixes and Elastic IPs: read on every refresh.
        case changing
    }

    public var lifetime: Lifetime {
        switch self {
        case .deviceNumber, .networkCard, .interfaceID, .subnetIPv4CIDRBlock, .subnetIPv6CIDRBlocks, .vpcID: return .attachment
        case .vpcIPv4CIDRBlocks, .vpcIPv6CIDRBlocks: return .vpc
        case .localIPv4s, .ipv6s, .ipv4Prefix, .ipv6Prefix, .ipv4Associations: return .changing
        }
    }

    /// The key as the directory's listing shows it (a directory ends in `/`).
    public var listed: String { self == .ipv4Associations ? rawValue + "/" : rawValue }

    /// The IMDS path of the instance's MAC directories, relative to `/latest/`.
    public static let macsPath = "meta-data/network/interfaces/macs/"
}
