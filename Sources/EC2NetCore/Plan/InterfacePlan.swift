/// Everything one configured ENI gets: the numbers of docs/design.md and the
/// addresses, routes and rules derived from them. The renderer turns this into a
/// `.network` and a `.link`; nothing here is text from IMDS.
public struct InterfacePlan: Equatable, Sendable {
    /// The ENI's MAC (the `[Match]` key).
    public var mac: MACAddress
    /// `eni-…`, when IMDS reported it.
    public var interfaceID: String?
    /// Network card (0 when absent).
    public var card: Int
    /// Device number.
    public var device: Int
    /// Kernel link carrying the ENI; nil when rendering for boot before the link exists.
    public var linkName: String?
    /// True for the top-level `mac`.
    public var isPrimary: Bool
    /// Route table id, `10000 + 100·card + device`.
    public var table: Int
    /// Main-table metric of the DHCP/RA routes, `512 + 100·card + device`.
    public var metric: Int
    /// Run DHCPv4 (the ENI has a private IPv4).
    public var dhcp4: Bool
    /// Accept RAs for the IPv6 gateway (the ENI has an IPv6 address). IPv6 addresses are
    /// all static from IMDS, DHCPv6 is off: a reload restarts the DHCPv6 client and
    /// deletes its address for seconds (docs/decisions.md).
    public var ipv6: Bool
    /// Run the DHCPv6 client for what the VPC's DHCP options give (DNS servers, a search
    /// domain), never for addresses (they stay static): only on an ENI without IPv4, whose
    /// DHCPv4 lease would otherwise carry them (an IPv6-only subnet, docs/decisions.md).
    public var dhcp6: Bool
    /// The IPv6 router learned from the ENI's advertisements, when known (an IPv6 ENI
    /// only): the table's VPC blocks and, on a systemd-imds host, the route to
    /// fd00:ec2::254 go through it, never through the RA's nexthop object (Planning.swift).
    public var ipv6Router: IPv6Address?
    /// Keep the lease's default route in the main table; when false it goes to `table`.
    public var mainTableDefaultRoute: Bool
    /// Static addresses: secondary IPv4 as /32, secondary IPv6 as /128, and opt-in
    /// addresses from delegated prefixes.
    public var addresses: [IPPrefix]
    /// Routes of `table`.
    public var routes: [Route]
    /// Rules for every address and delegated prefix of the ENI, sorted.
    public var rules: [RoutingPolicyRule]
    /// Elastic IPs, for display.
    public var elasticIPs: [ElasticIP]

    /// `.link` alternative names: the ENI id and `device-number-D.C`, so operators can
    /// address the link by what the AWS console shows.
    public var alternativeNames: [String] {
        var names: [String] = []
        if let interfaceID { names.append(interfaceID) }
        names.append("device-number-\(device).\(card)")
        return names
    }
}
