/// Turns a plan into networkd files: the last step of parse → plan → render. Cannot fail:
/// everything invalid was rejected by the parser. Output order is fixed (card, device,
/// then address), so the same plan always gives the same bytes.
public func render(_ plan: Plan) -> [Artifact] {
    var artifacts: [Artifact] = []
    for interface in plan.interfaces {
        artifacts.append(Artifact(name: Artifact.networkFileName(for: interface.mac),
                                  bytes: networkFile(interface, imds: plan.imdsNetworking)))
        artifacts.append(Artifact(name: Artifact.linkFileName(for: interface.mac), bytes: linkFile(interface)))
    }
    for skipped in plan.skipped where Management.keptFromCatchAll(skipped.reason) {
        artifacts.append(Artifact(name: Artifact.unmanagedFileName(for: skipped.mac), bytes: unmanagedFile(skipped)))
    }
    if !plan.mainRules.isEmpty {
        artifacts.append(Artifact(name: Artifact.loopbackName, bytes: loopbackFile(plan.mainRules)))
    }
    // The shipped catch-all (in /usr/lib) gives a link DHCP and carries no IMDS
    // networking. This same-named file in /run replaces it where either differs: on a
    // systemd-imds host, so a link before its first plan (first boot, a hot attach) keeps
    // systemd-imdsd's routes and lock too; and once the primary ENI is configured, so a
    // hot-attached link waits for its file without an address (NewLinks).
    if plan.imdsNetworking != .off || plan.newLinks != .dhcp {
        artifacts.append(Artifact(name: Artifact.catchAllName,
                                  bytes: catchAllFile(imds: plan.imdsNetworking, newLinks: plan.newLinks)))
    }
    return artifacts.sorted { $0.name < $1.name }
}

/// The `.network` of an ENI ec2-netgen leaves alone: networkd does not touch its link,
/// unless a file of the operator's or another tool's (sorting before `79-`) configures it.
func unmanagedFile(_ skipped: SkippedInterface) -> [UInt8] {
    var file = INIWriter()
    file.comment(String(Artifact.headerLine.dropFirst(2)))
    file.comment("ENI \(skipped.interfaceID ?? skipped.mac.description) is not ec2-netgen's: \(skipped.reason).")
    file.comment("networkd leaves its link alone; a .network of yours sorting before this file configures it instead.")
    matchSection(&file, skipped.mac)
    file.section("Link")
    file.entry("Unmanaged", literal: "yes")
    return file.bytes
}

/// The header comment of an ENI's files.
private func header(_ file: inout INIWriter, _ interface: InterfacePlan, name: String) {
    let role = interface.isPrimary ? "primary ENI" : "ENI"
    file.comment(String(Artifact.headerLine.dropFirst(2)))
    file.comment("\(role) \(interface.interfaceID ?? interface.mac.description): network-card \(interface.card), "
        + "device-number \(interface.device), route table \(interface.table).")
    file.comment("Override with a drop-in: /etc/systemd/network/\(name).d/*.conf")
}

/// `[Match]` of an ENI's files. Type=ether keeps a VLAN or bond that shares the ENI's
/// MAC from matching.
private func matchSection(_ file: inout INIWriter, _ mac: MACAddress) {
    file.section("Match")
    file.entry("MACAddress", mac)
    file.entry("Type", literal: "ether")
}

/// The `.network` of one ENI.
func networkFile(_ interface: InterfacePlan, imds: IMDSNetworking = .off) -> [UInt8] {
    var file = INIWriter(capacity: 1024 + 120 * (interface.addresses.count + interface.routes.count + interface.rules.count))
    header(&file, interface, name: Artifact.networkFileName(for: interface.mac))
    matchSection(&file, interface.mac)

    file.section("Network")
    file.entry("DHCP", literal: interface.dhcp4 ? "ipv4" : interface.dhcp6 ? "ipv6" : "no")
    file.entry("IPv6AcceptRA", literal: interface.ipv6 ? "yes" : "no")
    if interface.ipv6 {
        // The VPC gives each address to one ENI, so duplicate address detection finds
        // nothing; it only holds a new address tentative, unusable as a source, for a
        // second or more: at boot, at attach, and when ec2-netgen takes a link over from
        // netplan or amazon-ec2-net-utils. Both for the link (the sysctl: networkd 252
        // ignores an [Address]'s DuplicateAddressDetection=none) and per [Address] (257
        // adds a re-added address before it applies the sysctl) (docs/decisions.md).
        file.entry("IPv6DuplicateAddressDetection", 0)
    }
    // A reload reconfigures a link whose file changed; keeping the DHCP-learned state
    // means adding a secondary IP costs no IPv4 packet (docs/decisions.md).
    file.entry("KeepConfiguration", literal: "dhcp")

    if interface.dhcp4 {
        file.section("DHCPv4")
        file.entry("RouteMetric", interface.metric)
        // EC2 announces the 9001-byte jumbo MTU over DHCP; networkd ignores it by default.
        file.entry("UseMTU", literal: "yes")
        if !interface.isPrimary {
            // Every ENI's lease carries a hostname; only the primary's may set it.
            file.entry("UseHostname", literal: "no")
        }
        if !interface.mainTableDefaultRoute { file.entry("RouteTable", interface.table) }
    }
    if interface.dhcp6 {
        file.section("DHCPv6")
        // The client is there for the VPC's DHCP options (DNS above all); addresses stay
        // static from IMDS, since a DHCPv6 address is deleted for seconds on every reload.
        file.entry("UseAddress", literal: "no")
        file.entry("UseDelegatedPrefix", literal: "no")
        // Solicit as soon as the link-local address is up, not on the first RA: networkd
        // records a DHCPv6 lease's DNS servers for resolved only if the reply comes before
        // the link is "configured" (with UseAddress=no nothing else marks the link's state
        // changed), and the RA completes that state (docs/decisions.md).
        file.entry("WithoutRA", literal: "solicit")
        if !interface.isPrimary { file.entry("UseHostname", literal: "no") }
    }
    if interface.ipv6 {
        file.section("IPv6AcceptRA")
        // RAs give the gateway; the addresses are static (see InterfacePlan.ipv6). An
        // ENI without IPv4 starts DHCPv6 on the first RA whatever its flags (dhcp6).
        file.entry("DHCPv6Client", literal: interface.dhcp6 ? "always" : "no")
        file.entry("RouteMetric", interface.metric)
        if !interface.mainTableDefaultRoute { file.entry("RouteTable", interface.table) }
    }
    for address in interface.addresses {
        file.section("Address")
        file.entry("Address", address)
        file.entry("AddPrefixRoute", literal: "no")
        if address.family == .ipv6 { file.entry("DuplicateAddressDetection", literal: "none") }
    }
    for route in interface.routes {
        routeSection(&file, route)
    }
    for rule in interface.rules {
        ruleSection(&file, rule)
    }
    imdsSections(&file, imds, metric: interface.metric, ipv6: interface.ipv6, router: interface.ipv6Router)
    imdsSourceRules(&file, imds, interface: interface)
    return file.bytes
}

/// The catch-all `.network`, for every EC2 network interface that has no file of its own
/// yet. With `newLinks: .dhcp`, DHCP (first boot, or a hot-attached ENI before ec2-netgen
/// has configured the primary), so IMDS is reachable. With `.waitForFile`, the link comes
/// up with no address (no DHCP, no DHCPv6, no SLAAC; router advertisements for their
/// routes only), and does not hold network-online.target, until its own file replaces
/// this one. Shipped as
/// `units/80-ec2-netgen-default.network`, which is this file with `imds: .off` and `.dhcp`
/// (a test holds them equal).
public func catchAllFile(imds: IMDSNetworking, newLinks: NewLinks = .dhcp) -> [UInt8] {
    var file = INIWriter()
    if imds != .off || newLinks != .dhcp {
        // The header is what lets apply remove this file once neither applies.
        file.comment(String(Artifact.headerLine.dropFirst(2)))
        file.comment("This file in /run replaces the shipped one of the same name"
            + (imds != .off ? " (systemd-imds is \(imds) here)." : "."))
    }
    switch newLinks {
    case .dhcp:
        file.comment("Shipped by ec2-netgen. DHCP on every EC2 network interface that has no generated file")
        file.comment("yet (first boot, or a hot-attached ENI before IMDS describes it), so IMDS is reachable.")
    case .waitForFile:
        file.comment("ec2-netgen has configured the primary ENI: an EC2 network interface with no generated")
        file.comment("file yet (a hot-attached ENI while ec2-netgen reads its record through the primary)")
        file.comment("comes up without an address, so none answers before its rules exist.")
    }
    file.comment("The generated 05-ec2-netgen-*.network files sort first and take precedence. Which links")
    file.comment("are EC2 network interfaces is decided once, by 99-ec2-netgen.rules (EC2_NETGEN_NIC=1).")
    file.section("Match")
    file.entry("Property", literal: "EC2_NETGEN_NIC=1")
    file.entry("Type", literal: "ether")
    if newLinks == .waitForFile {
        file.section("Link")
        file.entry("RequiredForOnline", literal: "no")
    }
    file.section("Network")
    switch newLinks {
    case .dhcp:
        file.entry("DHCP", literal: "yes")
        file.section("DHCPv4")
        file.entry("UseMTU", literal: "yes")
    case .waitForFile:
        // Router advertisements still count, for their routes only: the shipped catch-all's
        // RA routes stay as they were, and ec2-netgen learns the ENI's IPv6 router from
        // them for the link's first file (RouterLearning).
        file.entry("DHCP", literal: "no")
        file.entry("IPv6AcceptRA", literal: "yes")
        file.section("IPv6AcceptRA")
        file.entry("DHCPv6Client", literal: "no")
        file.entry("UseAutonomousPrefix", literal: "no")
    }
    imdsSections(&file, imds, metric: nil, routesToIMDS: newLinks == .dhcp)
    return file.bytes
}

/// What systemd-imdsd's `85-imds-early.network` gives a link, which ec2-netgen's file
/// replaces on that link (IMDSNetworking): the daemon's table and mark rule, and when
/// locked the `prohibit` routes in main. ec2-netgen's rules cannot open a way around them:
/// the first band suppresses the ENI table's default route and falls to main's
/// `prohibit`. Each ENI's route in the daemon's table has the ENI's metric, so every
/// link keeps its own (the daemon scopes requests to an interface). On an ENI with IPv6
/// the route to fd00:ec2::254 goes through the ENI's router, the way every unmarked IPv6
/// IMDS request goes; systemd-imdsd's file routes it on the link, which the emulated VPC
/// does not answer and which is not known to work on EC2 (docs/decisions.md). Through the
/// router learned from its advertisements, never `_ipv6ra`: a non-default route on the
/// RA's nexthop object lends its prefix length to the main table's default through the
/// same nexthop, which then escapes `suppress_prefixlength 0` (the nexthop misroute,
/// Planning.swift); until the router is known the daemon's table has no IPv6 route on
/// this link.
///
/// `routesToIMDS: false` leaves out the routes in the daemon's table (the lock and the mark
/// rule stay): for the catch-all that holds a new link back without an address, where such
/// a route, with no metric, would win the daemon's table and send every marked request
/// (ec2-netgen's own in locked mode among them) out of a link that cannot source it.
func imdsSections(_ file: inout INIWriter, _ imds: IMDSNetworking, metric: Int?, ipv6: Bool = false,
                  router: IPv6Address? = nil, routesToIMDS: Bool = true) {
    guard imds != .off else { return }
    if imds == .locked {
        for destination in ["169.254.169.254", "fd00:ec2::254"] {
            file.section("Route")
            file.entry("Destination", destination)
            file.entry("Type", literal: "prohibit")
        }
        // A route cannot refuse an IPv6 socket bound to a link (SO_BINDTODEVICE): the
        // kernel skips the prohibit route, which sits on `lo`, and takes the link's
        // default route. A rule refuses it whatever the binding,
        // after the mark rule lets the daemon through.
        for (family, destination) in [("ipv4", "169.254.169.254/32"), ("ipv6", "fd00:ec2::254/128")] {
            file.section("RoutingPolicyRule")
            file.entry("To", destination)
            file.entry("Family", family)
            file.entry("Type", literal: "prohibit")
            file.entry("Priority", RoutingNumbers.imdsProhibitRulePriority)
        }
    }
    for (family, destination) in [("ipv4", "169.254.169.254"), ("ipv6", "fd00:ec2::254")] {
        // An IPv6 ENI's route waits for its router; an ENI without IPv6 has it on the link.
        let gateway = family == "ipv6" && ipv6 ? router : nil
        if routesToIMDS && !(family == "ipv6" && ipv6 && router == nil) {
            file.section("Route")
            file.entry("Destination", destination)
            if family == "ipv4" { file.entry("Scope", literal: "link") }
            if let gateway { file.entry("Gateway", gateway.description) }
            file.entry("Table", RoutingNumbers.imdsTable)
            if let metric { file.entry("Metric", metric) }
        }
        file.section("RoutingPolicyRule")
        file.entry("Family", family)
        file.entry("FirewallMark", RoutingNumbers.imdsTable)
        file.entry("Table", RoutingNumbers.imdsTable)
        file.entry("Priority", RoutingNumbers.imdsRulePriority)
    }
}

/// Where systemd-imds runs, a marked packet that already has one of the ENI's addresses as
/// its source looks up the ENI's own table, before the daemon's. The daemon's table holds a
/// route to IMDS per ENI, and a lookup there without an output interface takes the one with
/// the lowest metric, the primary's, whatever the source; the VPC drops what leaves an ENI
/// with another ENI's address. Such lookups happen in both families: IPv6 sends a segment
/// of a socket that no longer exists as such (the ACK of a TIME_WAIT socket, a reset) with
/// the socket's interface as a preference only (the scenario suite saw those ACKs leave
/// through the primary); and TCP routes a connection again, with its source and mark but
/// without the interface systemd-imdsd scopes it to (IP_UNICAST_IF counts only at connect),
/// whenever a route change invalidates its cached route, as every networkd reload that
/// touches a route does (the VM suite saw a FIN from the second ENI's IPv4 address leave
/// through the primary during a hot attach). A socket bound only to an ENI's address is
/// routed this way from its first packet.
func imdsSourceRules(_ file: inout INIWriter, _ imds: IMDSNetworking, interface: InterfacePlan) {
    guard imds != .off else { return }
    var sources: [IPPrefix] = []
    for rule in interface.rules {
        if let from = rule.from, !sources.contains(from) { sources.append(from) }
    }
    for source in sources.sorted() {
        file.section("RoutingPolicyRule")
        file.entry("From", source)
        file.entry("Family", source.family.rawValue)
        file.entry("FirewallMark", RoutingNumbers.imdsTable)
        file.entry("Table", interface.table)
        file.entry("Priority", RoutingNumbers.imdsSourceRulePriority)
    }
}

/// One `[Route]`.
func routeSection(_ file: inout INIWriter, _ route: Route) {
    file.section("Route")
    if let destination = route.destination { file.entry("Destination", destination) }
    switch route.gateway {
    // IPv6 has no route scope (networkd warns and ignores it); IPv4 needs `link` for a
    // route without a gateway.
    case .onLink where route.family == .ipv4: file.entry("Scope", literal: "link")
    case .onLink: break
    case .dhcp4, .ipv6RA, .router: file.entry("Gateway", route.gateway.text)
    case .vpcRouter:
        file.entry("Gateway", route.gateway.text)
        file.entry("GatewayOnLink", literal: "yes")
    }
    file.entry("Table", route.table)
    if let metric = route.metric { file.entry("Metric", metric) }
}

/// One `[RoutingPolicyRule]`.
func ruleSection(_ file: inout INIWriter, _ rule: RoutingPolicyRule) {
    file.section("RoutingPolicyRule")
    if let from = rule.from { file.entry("From", from) }
    file.entry("Family", rule.family.rawValue)
    if let table = rule.table { file.entry("Table", table) } else { file.entry("Table", literal: "main") }
    file.entry("Priority", rule.priority)
    if let length = rule.suppressPrefixLength { file.entry("SuppressPrefixLength", length) }
}

/// The `.link` of one ENI: alternative names, and the stock naming policy. Only the first
/// matching `.link` applies, so ours must repeat what `99-default.link` would have done or
/// the ENI would lose its predictable name.
func linkFile(_ interface: InterfacePlan) -> [UInt8] {
    var file = INIWriter()
    header(&file, interface, name: Artifact.linkFileName(for: interface.mac))
    matchSection(&file, interface.mac)
    file.section("Link")
    file.entry("NamePolicy", literal: "keep kernel database onboard slot path")
    file.entry("AlternativeNamesPolicy", literal: "database onboard slot path")
    file.entry("MACAddressPolicy", literal: "none")
    for name in interface.alternativeNames { file.entry("AlternativeName", name) }
    return file.bytes
}

/// The loopback `.network` carrying the main-table rules, which belong to no ENI and so
/// must survive any ENI's detach.
func loopbackFile(_ rules: [RoutingPolicyRule]) -> [UInt8] {
    var file = INIWriter(capacity: 512 + 120 * rules.count)
    file.comment(String(Artifact.headerLine.dropFirst(2)))
    file.comment("Main-table rules between the per-ENI bands: host-local routes (docker, CNI, admin) still win.")
    file.section("Match")
    file.entry("Name", literal: "lo")
    for rule in rules { ruleSection(&file, rule) }
    return file.bytes
}
