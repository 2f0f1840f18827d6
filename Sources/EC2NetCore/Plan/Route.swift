/// A route networkd installs in an ENI's table (`[Route]`).
public struct Route: Equatable, Sendable {
    /// Where the next hop comes from.
    public enum Gateway: String, Equatable, Sendable {
        /// No gateway: the destination is on the link (the ENI's subnet).
        case onLink = "on-link"
        /// The router of the DHCPv4 lease (`Gateway=_dhcp4`).
        case dhcp4 = "_dhcp4"
        /// The router that sent the IPv6 RA (`Gateway=_ipv6ra`).
        case ipv6RA = "_ipv6ra"
    }

    /// Destination prefix; nil is the default route of `family`.
    public var destination: IPPrefix?
    /// Address family (needed for a default route, which has no destination).
    public var family: IPFamily
    /// Next hop.
    public var gateway: Gateway
    /// Route table id.
    public var table: Int

    /// Creates a route.
    public init(destination: IPPrefix?, family: IPFamily, gateway: Gateway, table: Int) {
        self.destination = destination
        self.family = family
        self.gateway = gateway
        self.table = table
    }
}
