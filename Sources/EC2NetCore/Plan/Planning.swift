/// Joins the instance to the links and applies the routing policy: the second step of
/// parse → plan → render. Pure; throws only for metadata that cannot be planned at all.
public func plan(_ instance: Instance, links: [Link], options: PlanOptions) throws(InputError) -> Plan {
    let primaryHasCard = instance.primary?.networkCard != nil
    var planned: [InterfacePlan] = []
    var skipped: [SkippedInterface] = []
    for interface in instance.interfaces {
        let isPrimary = interface.mac == instance.primaryMAC
        let link = enaLink(for: interface.mac, in: links)
        func skip(_ reason: SkippedInterface.Reason) {
            skipped.append(SkippedInterface(mac: interface.mac, interfaceID: interface.interfaceID, reason: reason))
        }
        let settings = options.settings(mac: interface.mac, interfaceID: interface.interfaceID, linkName: link?.name,
                                        isPrimary: isPrimary)
        if let reason = Management.leftAlone(link: link, settings: settings) { skip(reason); continue }
        guard interface.hasAddresses, let device = interface.deviceNumber else { skip(.noAddresses); continue }
        if let why = lagSymptom(interface, isPrimary: isPrimary, primaryHasCard: primaryHasCard) {
            skip(.incomplete(why)); continue
        }
        guard link != nil || options.includeAbsentLinks else { skip(.notAttached); continue }
        planned.append(planInterface(interface, device: device, isPrimary: isPrimary, linkName: link?.name,
                                     settings: settings, router: options.ipv6Routers[interface.mac]))
    }
    planned.sort { ($0.card, $0.device) < ($1.card, $1.device) }
    for (first, second) in zip(planned, planned.dropFirst()) where (first.card, first.device) == (second.card, second.device) {
        throw .duplicateDevice(card: first.card, device: first.device, macs: [first.mac, second.mac])
    }
    let mainRules = IPFamily.allCases.filter { family in
        planned.contains { $0.rules.contains { $0.family == family } }
    }.map {
        RoutingPolicyRule(from: nil, family: $0, table: nil, priority: RoutingNumbers.mainRulePriority,
                          suppressPrefixLength: 0)
    }
    var result = Plan(instanceID: instance.instanceID, interfaces: planned, mainRules: mainRules, skipped: skipped)
    result.imdsNetworking = options.imdsNetworking
    result.newLinks = NewLinks.decide(planned: planned)
    return result
}

/// The link carrying an ENI. A VLAN or bond can share the ENI's MAC: prefer an ENA-family
/// driver, then the lowest ifindex (the physical link exists before what stacks on it).
public func enaLink(for mac: MACAddress, in links: [Link]) -> Link? {
    links.filter { $0.mac == mac }.min { lhs, rhs in
        let lhsENA = Link.enaDrivers.contains(lhs.driver), rhsENA = Link.enaDrivers.contains(rhs.driver)
        return lhsENA != rhsENA ? lhsENA : lhs.index < rhs.index
    }
}

/// The signs of IMDS lag after a hot attach (docs/design.md), or nil when the record
/// looks complete.
func lagSymptom(_ interface: NetworkInterface, isPrimary: Bool, primaryHasCard: Bool) -> String? {
    lagSymptom(deviceNumber: interface.deviceNumber, networkCard: interface.networkCard, isPrimary: isPrimary,
               primaryHasCard: primaryHasCard)
}

/// The IMDS-lag rule itself, on typed values, for the planner and for `--wait-for`'s poll:
/// after a hot attach `network-card` may be missing although the primary has one, and
/// `device-number` may read 0 for a secondary ENI (only the primary is card 0, device 0).
public func lagSymptom(deviceNumber: Int?, networkCard: Int?, isPrimary: Bool, primaryHasCard: Bool) -> String? {
    if primaryHasCard && networkCard == nil { return "network-card missing" }
    if !isPrimary && (networkCard ?? 0) == 0 && deviceNumber == 0 { return "device-number 0 on a secondary ENI" }
    return nil
}

/// The plan of one ENI.
private func planInterface(_ interface: NetworkInterface, device: Int, isPrimary: Bool, linkName: String?,
                           settings: InterfaceSettings, router: IPv6Address?) -> InterfacePlan {
    let card = interface.card
    let table = RoutingNumbers.table(card: card, device: device)
    let dhcp4 = !interface.privateIPv4s.isEmpty
    let ipv6 = !interface.ipv6s.isEmpty

    // The first IPv4 comes from DHCP; the other IPv4s, and every IPv6, are static host
    // addresses without a prefix route (a /24 static address would become the subnet's
    // preferred source and steal it from the DHCP address). IPv6 is static because the
    // DHCPv6 client restarts on every reload of a changed file and drops its address.
    var addresses = interface.privateIPv4s.dropFirst().map { IPPrefix(host: .v4($0)) }
        + interface.ipv6s.map { IPPrefix(host: .v6($0)) }
    if settings.addressesFromPrefixes {
        let assigned = Set(addresses.map(\.address) + interface.privateIPv4s.map(IPAddress.v4))
        for prefix in interface.ipv4Prefixes {
            addresses += prefix.ipv4Hosts.map { IPPrefix(host: .v4($0)) }.filter { !assigned.contains($0.address) }
        }
    }

    var routes: [Route] = []
    if dhcp4 {
        // The table's routes go through the subnet's VPC router as a static address, not
        // the lease's (`_dhcp4`): a `_dhcp4` route exists only once networkd's DHCP client
        // holds a lease, and until then the ENI's static secondary addresses (already up)
        // answered other subnets through the main table, out of the primary, which the
        // source/destination check drops: at every boot, measured (docs/decisions.md).
        var gateway = Route.Gateway.dhcp4
        if let subnet = interface.subnetIPv4CIDR {
            routes.append(Route(destination: subnet, family: .ipv4, gateway: .onLink, table: table))
            if let router = subnet.vpcRouter { gateway = .vpcRouter(router) }
        }
        for block in interface.vpcIPv4CIDRs {
            routes.append(Route(destination: block, family: .ipv4, gateway: gateway, table: table))
        }
        // Without a main-table default the lease's own default route lands in `table`
        // (DHCPv4 RouteTable=), so a second one here would be a duplicate.
        if settings.mainTableDefaultRoute {
            routes.append(Route(destination: nil, family: .ipv4, gateway: gateway, table: table))
        }
    }
    if ipv6 {
        for subnet in interface.subnetIPv6CIDRs {
            routes.append(Route(destination: subnet, family: .ipv6, gateway: .onLink, table: table))
        }
        // A VPC block goes through the router learned from the RAs, never through the RA's
        // own router (`_ipv6ra`). networkd 257 and later install RA routes through one
        // nexthop object per router, shared by the main table's default and the ENI
        // tables' routes, and the kernel keeps one cached route per CPU in that nexthop:
        // once a VPC block and a default route share it, a lookup on a CPU can get the
        // other's prefix length. A default route then escapes the main-table rule's
        // `suppress_prefixlength 0` (every ENI's internet replies leave through the
        // primary), or a VPC block is suppressed at the first band (the reply falls to the
        // main table's on-link route of another ENI's subnet). Measured and reproduced:
        // docs/decisions.md, the nexthop misroute. A route with its own gateway has its
        // own cache. Until the router is known (its RA has not come yet), the table has no
        // VPC block and replies to subnets of the instance's other ENIs take the main
        // table's on-link routes; the apply that learns the router adds them.
        if let router {
            for block in interface.vpcIPv6CIDRs {
                routes.append(Route(destination: block, family: .ipv6, gateway: .router(router), table: table,
                                    metric: RoutingNumbers.learnedRouterMetric))
            }
        }
        if settings.mainTableDefaultRoute {
            routes.append(Route(destination: nil, family: .ipv6, gateway: .ipv6RA, table: table))
        }
        // Routes through the RA's router leave with every reconfigure until the next RA;
        // the default through the same router, known from before, stays (the VPC blocks
        // above do already: without them a reply to another subnet of the VPC falls to the
        // main table's on-link route of the primary's subnet).
        if let router {
            routes.append(Route(destination: nil, family: .ipv6, gateway: .router(router), table: table,
                                metric: RoutingNumbers.learnedRouterMetric))
        }
    }

    // Rules in their sorted order (priority, family, source) without sorting the rules:
    // the first band sorts before the second, and sorted sources are in family order.
    let sources = (interface.privateIPv4s.map { IPPrefix(host: .v4($0)) } + interface.ipv4Prefixes
        + interface.ipv6s.map { IPPrefix(host: .v6($0)) } + interface.ipv6Prefixes).sorted()
    let vpcPriority = RoutingNumbers.vpcRulePriority(card: card, device: device)
    let defaultPriority = RoutingNumbers.defaultRulePriority(card: card, device: device)
    assert(vpcPriority < defaultPriority, "the rule bands are ordered")
    var rules: [RoutingPolicyRule] = []
    rules.reserveCapacity(2 * sources.count)
    for source in sources {
        rules.append(RoutingPolicyRule(from: source, family: source.family, table: table, priority: vpcPriority,
                                       suppressPrefixLength: 0))
    }
    for source in sources {
        rules.append(RoutingPolicyRule(from: source, family: source.family, table: table, priority: defaultPriority,
                                       suppressPrefixLength: nil))
    }
    return InterfacePlan(
        mac: interface.mac, interfaceID: interface.interfaceID, card: card, device: device, linkName: linkName,
        isPrimary: isPrimary, table: table, metric: RoutingNumbers.metric(card: card, device: device),
        dhcp4: dhcp4, ipv6: ipv6, dhcp6: ipv6 && !dhcp4, ipv6Router: ipv6 ? router : nil,
        mainTableDefaultRoute: settings.mainTableDefaultRoute,
        addresses: addresses.sorted(), routes: routes, rules: rules,
        elasticIPs: interface.elasticIPs.sorted())
}
