import EC2NetCore
import EC2NetFS
import EC2NetIO
import Glibc

/// After the reload that gives an IPv6-only ENI its first ec2-netgen file: make sure
/// networkd kept the ENI's IPv6 addresses, and have it reconfigure the link once if not.
///
/// Why: until then the link ran the DHCP catch-all, whose DHCPv6 lease put the ENI's
/// address on it. The new file declares the same address static and keeps DHCPv6 for DNS
/// only (`UseAddress=no`). networkd 257 keeps the old lease across the reconfigure and
/// starts the new client at once; when the new lease is processed before the kernel has
/// confirmed the static address, networkd still files the address under DHCPv6, removes it
/// as left over from the old lease, and cancels the static request with it. The ENI then
/// has no address until its next reconfigure. 262 does the same and then leaves the link
/// "configuring" for good. A second reconfigure cannot hit it: the old lease is gone.
/// networkd 252 takes ownership when it sends the request and never loses
/// the address this way (docs/decisions.md, "systemd versions").
///
/// Only links whose `.network` this apply created and whose ENI has DHCPv6 are watched,
/// and only while the reload was answered: everything else returns at once. A declared
/// address already on the link before the reload (the catch-all's lease put it there)
/// counts as seen: networkd can remove it before the first look after the reload, and the
/// link must not then pass for one whose address is still on its way. A link counts
/// as handed over once networkd calls it configured and every declared IPv6 address has
/// been on it for `settle`. Returns what the operator should know: a repair, or addresses
/// still missing at `limit` (never an error: the files are right, the unattended paths go
/// on).
func confirmDHCPv6Handover(_ links: [HandoverLink], networkd: NetworkdService, kernel: KernelState, clock: WaitClock,
                           limit: Duration, settle: Duration) -> [String] {
    var watched = links
    guard !watched.isEmpty else { return [] }
    var warnings: [String] = []
    let deadline = clock.now() + limit
    while true {
        let present: [Netlink.Address]
        do {
            present = try kernel.addresses()
        } catch {
            return warnings + ["could not check the IPv6 addresses networkd configured: \(error)"]
        }
        let now = clock.now()
        for index in watched.indices where !watched[index].done {
            let onLink = Set(present.filter { $0.interfaceIndex == watched[index].index }.map(\.address))
            let configured = networkd.setupState(ifindex: watched[index].index) == "configured"
            guard watched[index].dropped(onLink: onLink, configured: configured, now: now, settle: settle) else { continue }
            warnings.append(repair(&watched[index], missing: watched[index].declared.subtracting(onLink), networkd: networkd))
        }
        if watched.allSatisfy(\.done) { return warnings }
        if now >= deadline {
            for link in watched where !link.done {
                let missing = link.declared.subtracting(present.filter { $0.interfaceIndex == link.index }.map(\.address))
                if missing.isEmpty { continue }  // still being configured, nothing lost
                warnings.append("\(missing.map(\.description).sorted().joined(separator: ", ")) still not on "
                    + "\(link.name) \(limit) after the reload; `networkctl reconfigure \(link.name)` applies it again")
            }
            return warnings
        }
        clock.sleep(.milliseconds(50))
    }
}

/// The links to watch: those whose `.network` this apply created and whose ENI has
/// DHCPv6 and declared IPv6 addresses, each with the declared addresses on it before the
/// apply changed anything (`present`). Without those (no kernel to read, or the read
/// failed) none count as seen yet.
func handoverLinks(_ plan: Plan, sync: SyncReport, links: [Link], present: [Netlink.Address]?) -> [HandoverLink] {
    let created = Set(sync.created)
    var watched: [HandoverLink] = []
    for interface in plan.interfaces where interface.dhcp6 && created.contains(Artifact.networkFileName(for: interface.mac)) {
        guard let name = interface.linkName, let link = links.first(where: { $0.name == name }) else { continue }
        let declared = Set(interface.addresses.map(\.address).filter { $0.family == .ipv6 })
        if !declared.isEmpty { watched.append(HandoverLink(name: name, index: link.index, declared: declared)) }
    }
    guard !watched.isEmpty, let present else { return watched }
    for index in watched.indices {
        let onLink = present.filter { $0.interfaceIndex == watched[index].index }.map(\.address)
        watched[index].seen = watched[index].declared.intersection(onLink)
    }
    return watched
}

/// Has networkd reconfigure the link, once; the warning saying what happened.
func repair(_ link: inout HandoverLink, missing: Set<IPAddress>, networkd: NetworkdService) -> String {
    link.reconfigured = true
    let list = missing.map(\.description).sorted().joined(separator: ", ")
    do {
        try networkd.reconfigure(ifindex: link.index)
        return "networkd dropped \(list) from \(link.name) while taking the link over from the DHCP "
            + "catch-all (networkd 257 and 262 file it under the old DHCPv6 lease); asked it to reconfigure \(link.name)"
    } catch {
        link.done = true
        return "networkd dropped \(list) from \(link.name) and could not be asked to reconfigure it: \(error)"
    }
}

/// One link the hand-over check watches.
struct HandoverLink {
    var name: String
    var index: Int
    var declared: Set<IPAddress>
    /// When every declared address was last seen arriving while networkd called the link
    /// configured; nil while one is missing.
    var presentSince: Duration?
    /// Declared addresses seen on the link, from just before the reload on.
    var seen: Set<IPAddress> = []
    /// When an address seen before went missing while the link was configuring.
    var goneSince: Duration?
    var reconfigured = false
    var done = false

    /// One look at the link: true when networkd has dropped a declared address and the
    /// link is due its one reconfigure. Handed over once networkd calls it configured and
    /// every declared address has been on it for `settle`.
    mutating func dropped(onLink: Set<IPAddress>, configured: Bool, now: Duration, settle: Duration) -> Bool {
        seen.formUnion(declared.intersection(onLink))
        let missing = declared.subtracting(onLink)
        if missing.isEmpty {
            goneSince = nil
            guard configured else {
                presentSince = nil
                return false
            }
            let since = presentSince ?? now
            presentSince = since
            if now - since >= settle { done = true }
            return false
        }
        presentSince = nil
        // Missing while networkd calls the link configured is a drop (257). So is an
        // address that was on the link and has stayed away for `settle` while it is still
        // configuring: 262 cancels the static request with the address and leaves the link
        // configuring until it is reconfigured. An address never seen yet on a configuring
        // link is still on its way.
        if !configured {
            guard !missing.isDisjoint(with: seen) else {
                goneSince = nil
                return false
            }
            let since = goneSince ?? now
            goneSince = since
            guard now - since >= settle else { return false }
        }
        return !reconfigured  // else the reconfigure is still on its way
    }
}
