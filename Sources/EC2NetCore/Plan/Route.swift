/// A route networkd installs in an ENI's table (`[Route]`).
public struct Route: Equatable, Sendable {
    /// Where the next hop comes from.
    public enum Gateway: Equatable, Sendable {
        /// No gateway: the destination is on the link (the ENI's subnet).
        case onLink
        /// The router of the DHCPv4 lease (`Gateway=_dhcp4`).
        case dhcp4
        /// The router that sent the IPv6 RA (`Gateway=_ipv6ra`).
        case ipv6RA
        /// A router's link-local address, learned from its RAs (PlanOptions.ipv6Routers).
        case router(IPv6Address)
        /// The VPC router of an IPv4 subnet: the subnet's network address + 1, which EC2
        /// reserves for it in every subnet. Static and on-link (`GatewayOnLink=yes`), so
        /// the route is in place as soon as the file applies, without waiting for a lease.
        case vpcRouter(IPv4Address)

        /// As `Gateway=` says it, and as `plan --json` shows it.
        public var text: String {
            switch self {
            case .onLink: return "on-link"
            case .dhcp4: return "_dhcp4"
            case .ipv6RA: return "_ipv6ra"
            case .router(let address): return address.description
            case .vpcRouter(let address): return address.description
            }
        }
    }

    /// Destination prefix; nil is the default route of `family`.
    public var destination: IPPrefix?
    /// Address family (needed for a default route, which has no destination).
    public var family: IPFamily
    /// Next hop.
    public var gateway: Gateway
    /// Route table id.
    public var table: Int
    /// `Metric=`, when not networkd's default.
    public var metric: Int?

    /// networkd installs it from the file alone, without a lease or an advertisement.
    public var isStatic: Bool {
        switch gateway {
        case .onLink, .vpcRouter, .router: return true
        case .dhcp4, .ipv6RA: return false
        }
    }

    /// Creates a route.
    public init(destination: IPPrefix?, family: IPFamily, gateway: Gateway, table: Int, metric: Int? = nil) {
        self.destination = destination
        self.family = family
        self.gateway = gateway
        self.table = table
        self.metric = metric
    }
}
