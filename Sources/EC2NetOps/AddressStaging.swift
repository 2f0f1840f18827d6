import EC2NetCore
import EC2NetFS
import EC2NetIO

/// An address comes onto a link only after its rules and its table.
///
/// Why: networkd configures a link's static addresses before its routes and its
/// `[RoutingPolicyRule]`s, all from one `.network`. A static address new on a link
/// (a hot-attached ENI's secondary, a secondary IP added in IMDS) therefore answers for a
/// moment while its rule and its table's routes are still on their way; a reply sent
/// then goes by the main table, out of the primary ENI, and the VPC's
/// source/destination check drops it. The kernel's monitor showed it on every hot attach
/// of the scenario suite (the secondary's address four events before its table's default
/// route, five before its rule); booted guests lost replies that way.
///
/// So an apply that brings static addresses onto links that exist first writes those
/// ENIs' `.network` files without them (rules and routes complete), has networkd reload,
/// and waits until the kernel holds those ENIs' rules and static routes; the full files
/// follow as always. An address already on its link (a lease, another tool's file, an
/// earlier apply) is never withheld: leaving it out would take it away. The wait is
/// bounded: past `limit` the full files go ahead, with a warning, as they did without
/// this step.
struct StagedAddresses {
    /// What the first write did.
    var sync: SyncReport
    var warnings: [String]
}

/// The planned static addresses not on their links now, per ENI; ENIs whose link is
/// absent are left out (networkd configures nothing there yet).
func arrivingAddresses(_ plan: Plan, links: [Link], present: [Netlink.Address]) -> [MACAddress: Set<IPPrefix>] {
    var arriving: [MACAddress: Set<IPPrefix>] = [:]
    for interface in plan.interfaces {
        guard let name = interface.linkName, let link = links.first(where: { $0.name == name }) else { continue }
        let onLink = Set(present.filter { $0.interfaceIndex == link.index }.map(\.address))
        let missing = interface.addresses.filter { !onLink.contains($0.address) }
        if !missing.isEmpty { arriving[interface.mac] = Set(missing) }
    }
    return arriving
}

/// The first write, its reload and the wait; nil when no address arrives (or the effects
/// reach no networkd or kernel, or the addresses before the apply could not be read).
func stageArrivingAddresses(_ plan: Plan, request: ApplyRequest, effects: SystemEffects,
                            present: [Netlink.Address]?) throws -> StagedAddresses? {
    guard let networkd = effects.networkd, let kernel = effects.kernel, let present else { return nil }
    let arriving = arrivingAddresses(plan, links: request.links, present: present)
    guard !arriving.isEmpty else { return nil }
    let interim = plan.withholding(arriving)
    let names = Set(arriving.keys.map(Artifact.networkFileName(for:)))
    let sync = try ManagedDirectory(root: request.root).update(render(interim).filter { names.contains($0.name) })
    var staged = StagedAddresses(sync: sync, warnings: [])
    if sync.changed {
        do {
            guard try networkd.reload() == .reloaded else { return staged }  // it reads the full files when it starts
        } catch {
            // The full files' reload says so again if networkd still cannot be told.
            staged.warnings.append("could not have networkd apply the rules before the new addresses: \(error)")
            return staged
        }
    }
    let staging = interim.interfaces.filter { arriving[$0.mac] != nil }
    if let missing = awaitStaged(staging, kernel: kernel, clock: effects.clock, limit: request.stagingLimit) {
        staged.warnings.append("networkd had not installed \(missing) \(request.stagingLimit) after the reload; "
            + "adding the new addresses anyway (a reply from one may leave by the main table until they are in)")
    }
    return staged
}

/// Waits until the kernel holds every rule and every static route of `interfaces`; nil
/// then, else what is still missing at `limit`.
func awaitStaged(_ interfaces: [InterfacePlan], kernel: KernelState, clock: WaitClock, limit: Duration) -> String? {
    let rules = interfaces.flatMap(\.rules)
    let routes = interfaces.flatMap(\.routes).filter(\.isStatic)
    let deadline = clock.now() + limit
    while true {
        var missing: [String] = []
        do {
            missing = try missingRules(rules, in: kernel.rules()).map { "rule \($0)" }
                + missingRoutes(routes, in: kernel.routes()).map { "route \($0)" }
        } catch {
            return "(the kernel's rules could not be read: \(error))"
        }
        if missing.isEmpty { return nil }
        if clock.now() >= deadline { return missing.joined(separator: ", ") }
        clock.sleep(.milliseconds(20))
    }
}
