import EC2NetCore
import EC2NetFS
import EC2NetIO

/// `explain ADDRESS`: which ENI owns an address, its table, the rules that route replies
/// from it in the order the kernel tries them, what each is for, and whether the kernel
/// has it — the routing numbers' meaning on one screen.
public func explain(_ address: IPAddress, root: String, links: [Link], options: PlanOptions,
                    effects: SystemEffects) throws -> (lines: [String], found: Bool) {
    guard let plan = try appliedPlan(root: root, links: links, options: options) else { return ([AppliedMetadata.absence(root: root)], false) }
    return explain(address, in: plan, effects: effects)
}

/// `explain ENI`: every address and prefix of one ENI (by link name, MAC or ENI id).
public func explain(eni name: String, root: String, links: [Link], options: PlanOptions,
                    effects: SystemEffects) throws -> (lines: [String], found: Bool) {
    guard let plan = try appliedPlan(root: root, links: links, options: options) else { return ([AppliedMetadata.absence(root: root)], false) }
    guard let one = plan.only(name), let interface = one.interfaces.first else {
        return (["no configured ENI is named \(quoted(name)) (a link name, MAC or ENI id)"], false)
    }
    var lines: [String] = []
    var seen: Set<IPPrefix> = []
    for source in interface.rules.compactMap(\.from) where seen.insert(source).inserted {
        if !lines.isEmpty { lines.append("") }
        lines += explain(source.address, in: plan, effects: effects).lines
    }
    return (lines, true)
}

/// The plan of the last applied metadata (every ENI, attached or not), or nil.
func appliedPlan(root: String, links: [Link], options: PlanOptions) throws -> Plan? {
    guard let applied = AppliedMetadata.load(root: root) else { return nil }
    var planOptions = options
    planOptions.includeAbsentLinks = true  // explain an ENI even while its link is away
    return try EC2NetCore.plan(parse(MetadataDocument(bytes: applied.bytes, source: applied.source)), links: links,
                               options: planOptions)
}

func explain(_ address: IPAddress, in plan: Plan, effects: SystemEffects) -> (lines: [String], found: Bool) {
    let owned = plan.interfaces.compactMap { interface -> (InterfacePlan, IPPrefix)? in
        guard let source = interface.rules.compactMap(\.from).filter({ $0.contains(address) }).max(by: { $0.length < $1.length })
        else { return nil }
        return (interface, source)
    }
    guard let (interface, source) = owned.first else {
        return (["\(address) belongs to no ENI ec2-netgen configures: the kernel routes it by the main table alone"], false)
    }
    let link = interface.linkName ?? "no link yet"
    let kernelRules = effects.kernel.flatMap { try? $0.rules() }
    func state(_ rule: RoutingPolicyRule) -> String {
        guard let kernelRules else { return "not checked" }
        return kernelRules.contains(rule) ? "in the kernel" : "MISSING from the kernel"
    }
    let what = source.length == source.address.bitWidth ? "an address" : "in the delegated prefix \(source)"
    var lines = [
        "\(address) is \(what) of ENI \(interface.interfaceID ?? "?") (\(link), MAC \(interface.mac)), "
            + "network card \(interface.card), device \(interface.device)\(interface.isPrimary ? ", the primary" : "").",
        "Its route table is \(interface.table) (10000 + 100·card + device); its main-table metric \(interface.metric).",
        "Replies from it are routed by these rules, in the order the kernel tries them:",
    ]
    let mine = interface.rules.filter { $0.from == source }
    let ordered = (mine + plan.mainRules.filter { $0.family == source.family }).sorted { $0.priority < $1.priority }
    for rule in ordered {
        let why: String
        switch rule.priority {
        case RoutingNumbers.mainRulePriority:
            why = "host-local routes of the main table (docker bridges, CNI veths, admin routes) win, its default route does not"
        case RoutingNumbers.vpcRulePriority(card: interface.card, device: interface.device):
            why = "VPC destinations (the subnet, the VPC's blocks) through \(link), table \(interface.table) without its default"
        default:
            why = "everything else (internet, peered VPCs) through \(link)'s gateway, table \(interface.table)"
        }
        lines.append("  \(rule)  [\(state(rule))]")
        lines.append("      \(why)")
    }
    lines.append("Table \(interface.table) holds (planned):")
    for route in interface.routes where route.family == source.family { lines.append("  \(route)") }
    if source.family == .ipv6, interface.ipv6, interface.ipv6Router == nil {
        // Planning adds these routes only through a learned router (the nexthop misroute).
        lines.append("No IPv6 router is learned for \(link) yet: the VPC's IPv6 blocks and a default route through that "
                     + "router join table \(interface.table) at the apply that learns it from the ENI's router "
                     + "advertisements; until then a reply to the subnet of another ENI of this instance takes the main "
                     + "table's on-link route through that ENI.")
    }
    lines.append("Every priority stays below the kernel's own lookup main at 32766.")
    return (lines, true)
}
