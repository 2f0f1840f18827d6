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
/// has no address until its next reconfigure. A second reconfigure cannot hit it: the old
/// lease is gone. networkd 252 takes ownership when it sends the request and never loses
/// the address this way (docs/decisions.md, "systemd versions").
///
/// Only links whose `.network` this apply created and whose ENI has DHCPv6 are watched,
/// and only while the reload was answered: everything else returns at once. A link counts
/// as handed over once networkd calls it configured and every declared IPv6 address has
/// been on it for `settle`. Returns what the operator should know: a repair, or addresses
/// still missing at `limit` (never an error: the files are right, the unattended paths go
/// on).
func confirmDHCPv6Handover(_ plan: Plan, sync: SyncReport, links: [Link], networkd: NetworkdService,
                           kernel: KernelState, limit: Duration, settle: Duration) -> [String] {
    let created = Set(sync.created)
    var watched: [HandoverLink] = []
    for interface in plan.interfaces where interface.dhcp6 && created.contains(Artifact.networkFileName(for: interface.mac)) {
        guard let name = interface.linkName, let link = links.first(where: { $0.name == name }) else { continue }
        let declared = Set(interface.addresses.map(\.address).filter { $0.family == .ipv6 })
        if !declared.isEmpty { watched.append(HandoverLink(name: name, index: link.index, declared: declared)) }
    }
    guard !watched.isEmpty else { return [] }

    var warnings: [String] = []
    let deadline = ContinuousClock.now + limit
    while true {
        let present: [Netlink.Address]
        do {
            present = try kernel.addresses()
        } catch {
            return warnings + ["could not check the IPv6 addresses networkd configured: \(error)"]
        }
        let now = ContinuousClock.now
        for index in watched.indices where !watched[index].done {
            var link = watched[index]
            defer { watched[index] = link }
            let missing = link.declared.subtracting(present.filter { $0.interfaceIndex == link.index }.map(\.address))
            guard networkd.setupState(ifindex: link.index) == "configured" else {
                link.presentSince = nil
                continue
            }
            if missing.isEmpty {
                let since = link.presentSince ?? now
                link.presentSince = since
                if now - since >= settle { link.done = true }
                continue
            }
            link.presentSince = nil
            guard !link.reconfigured else { continue }  // the reconfigure is still on its way
            link.reconfigured = true
            let list = missing.map(\.description).sorted().joined(separator: ", ")
            do {
                try networkd.reconfigure(ifindex: link.index)
                warnings.append("networkd dropped \(list) from \(link.name) while taking the link over from the DHCP "
                    + "catch-all (networkd 257 files it under the old DHCPv6 lease); asked it to reconfigure \(link.name)")
            } catch {
                warnings.append("networkd dropped \(list) from \(link.name) and could not be asked to reconfigure it: \(error)")
                link.done = true
            }
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
        usleep(50_000)
    }
}

/// One link the hand-over check watches.
struct HandoverLink {
    var name: String
    var index: Int
    var declared: Set<IPAddress>
    /// When every declared address was last seen arriving while networkd called the link
    /// configured; nil while one is missing.
    var presentSince: ContinuousClock.Instant?
    var reconfigured = false
    var done = false
}
