/// Turns a plan into networkd files: the last step of parse → plan → render. Cannot fail:
/// everything invalid was rejected by the parser. Output order is fixed (card, device,
/// then address), so the same plan always gives the same bytes.
public func render(_ plan: Plan) -> [Artifact] {
    var artifacts: [Artifact] = []
    for interface in plan.interfaces {
        artifacts.append(Artifact(name: Artifact.networkFileName(for: interface.mac),
                                  contents: networkFile(interface).serialized()))
        artifacts.append(Artifact(name: Artifact.linkFileName(for: interface.mac),
                                  contents: linkFile(interface).serialized()))
    }
    // An ENI left to someone else (configuration, ID_NET_MANAGED_BY, EC2_NETGEN_NIC=0)
    // must not fall to the shipped catch-all's DHCP either.
    for skipped in plan.skipped {
        switch skipped.reason {
        case .optedOut, .managedBy:
            artifacts.append(Artifact(name: Artifact.unmanagedFileName(for: skipped.mac), contents: unmanagedFile(skipped).serialized()))
        case .notAttached, .noAddresses, .incomplete:
            continue
        }
    }
    if !plan.mainRules.isEmpty {
        artifacts.append(Artifact(name: Artifact.loopbackName, contents: loopbackFile(plan.mainRules).serialized()))
    }
    return artifacts.sorted { $0.name < $1.name }
}

/// The `.network` of an ENI ec2-netgen leaves alone: networkd does not touch its link,
/// unless a file of the operator's or another tool's (sorting before `79-`) configures it.
func unmanagedFile(_ skipped: SkippedInterface) -> INIFile {
    var file = INIFile(comments: [
        String(Artifact.headerLine.dropFirst(2)),
        "ENI \(skipped.interfaceID ?? skipped.mac.description) is not ec2-netgen's: \(skipped.reason).",
        "networkd leaves its link alone; a .network of yours sorting before this file configures it instead.",
    ])
    file.sections.append(INISection("Match", [("MACAddress", skipped.mac.description), ("Type", "ether")]))
    file.sections.append(INISection("Link", [("Unmanaged", "yes")]))
    return file
}

/// The header comment of an ENI's files.
private func header(_ interface: InterfacePlan, name: String) -> [String] {
    let role = interface.isPrimary ? "primary ENI" : "ENI"
    return [
        String(Artifact.headerLine.dropFirst(2)),
        "\(role) \(interface.interfaceID ?? interface.mac.description): network-card \(interface.card), "
            + "device-number \(interface.device), route table \(interface.table).",
        "Override with a drop-in: /etc/systemd/network/\(name).d/*.conf",
    ]
}

/// The `.network` of one ENI.
func networkFile(_ interface: InterfacePlan) -> INIFile {
    var file = INIFile(comments: header(interface, name: Artifact.networkFileName(for: interface.mac)))
    // Type=ether keeps a VLAN or bond that shares the ENI's MAC from matching.
    file.sections.append(INISection("Match", [("MACAddress", interface.mac.description), ("Type", "ether")]))

    var network = INISection("Network")
    network.append("DHCP", interface.dhcp4 ? "ipv4" : "no")
    network.append("IPv6AcceptRA", interface.ipv6 ? "yes" : "no")
    // A reload reconfigures a link whose file changed; keeping the DHCP-learned state
    // means adding a secondary IP costs no IPv4 packet (docs/decisions.md).
    network.append("KeepConfiguration", "dhcp")
    file.sections.append(network)

    if interface.dhcp4 {
        var dhcp = INISection("DHCPv4")
        dhcp.append("RouteMetric", String(interface.metric))
        // EC2 announces the 9001-byte jumbo MTU over DHCP; networkd ignores it by default.
        dhcp.append("UseMTU", "yes")
        if !interface.isPrimary {
            // Every ENI's lease carries a hostname; only the primary's may set it.
            dhcp.append("UseHostname", "no")
        }
        if !interface.mainTableDefaultRoute { dhcp.append("RouteTable", String(interface.table)) }
        file.sections.append(dhcp)
    }
    if interface.ipv6 {
        var ra = INISection("IPv6AcceptRA")
        // RAs give the gateway; the addresses are static (see InterfacePlan.ipv6).
        ra.append("DHCPv6Client", "no")
        ra.append("RouteMetric", String(interface.metric))
        if !interface.mainTableDefaultRoute { ra.append("RouteTable", String(interface.table)) }
        file.sections.append(ra)
    }
    for address in interface.addresses {
        file.sections.append(INISection("Address", [("Address", address.description), ("AddPrefixRoute", "no")]))
    }
    for route in interface.routes {
        file.sections.append(routeSection(route))
    }
    for rule in interface.rules {
        file.sections.append(ruleSection(rule))
    }
    return file
}

/// One `[Route]`.
func routeSection(_ route: Route) -> INISection {
    var section = INISection("Route")
    if let destination = route.destination { section.append("Destination", destination.description) }
    switch route.gateway {
    // IPv6 has no route scope (networkd warns and ignores it); IPv4 needs `link` for a
    // route without a gateway.
    case .onLink where route.family == .ipv4: section.append("Scope", "link")
    case .onLink: break
    case .dhcp4, .ipv6RA: section.append("Gateway", route.gateway.rawValue)
    }
    section.append("Table", String(route.table))
    return section
}

/// One `[RoutingPolicyRule]`.
func ruleSection(_ rule: RoutingPolicyRule) -> INISection {
    var section = INISection("RoutingPolicyRule")
    if let from = rule.from { section.append("From", from.description) }
    section.append("Family", rule.family.rawValue)
    section.append("Table", rule.table.map { "\($0)" } ?? "main")
    section.append("Priority", String(rule.priority))
    if let length = rule.suppressPrefixLength { section.append("SuppressPrefixLength", String(length)) }
    return section
}

/// The `.link` of one ENI: alternative names, and the stock naming policy. Only the first
/// matching `.link` applies, so ours must repeat what `99-default.link` would have done or
/// the ENI would lose its predictable name.
func linkFile(_ interface: InterfacePlan) -> INIFile {
    var file = INIFile(comments: header(interface, name: Artifact.linkFileName(for: interface.mac)))
    file.sections.append(INISection("Match", [("MACAddress", interface.mac.description), ("Type", "ether")]))
    var link = INISection("Link", [
        ("NamePolicy", "keep kernel database onboard slot path"),
        ("AlternativeNamesPolicy", "database onboard slot path"),
        ("MACAddressPolicy", "none"),
    ])
    for name in interface.alternativeNames { link.append("AlternativeName", name) }
    file.sections.append(link)
    return file
}

/// The loopback `.network` carrying the main-table rules, which belong to no ENI and so
/// must survive any ENI's detach.
func loopbackFile(_ rules: [RoutingPolicyRule]) -> INIFile {
    var file = INIFile(comments: [
        String(Artifact.headerLine.dropFirst(2)),
        "Main-table rules between the per-ENI bands: host-local routes (docker, CNI, admin) still win.",
    ])
    file.sections.append(INISection("Match", [("Name", "lo")]))
    for rule in rules { file.sections.append(ruleSection(rule)) }
    return file
}
