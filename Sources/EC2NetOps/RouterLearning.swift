import EC2NetCore
import EC2NetFS
import EC2NetIO

/// The IPv6 router of each ENI's link as the kernel shows it now: the gateway of a
/// default route networkd installed from router advertisements (`proto ra`), directly or
/// through a nexthop object (networkd 257 and later), when it is a link-local address on
/// an ENI's link. ec2-netgen's own route through a learned router is `proto static` and
/// so never counts: only an RA teaches a router.
public func routersInKernel(routes: [Netlink.Route], nexthops: [Netlink.Nexthop], links: [Link]) -> [MACAddress: IPv6Address] {
    let byID = Dictionary(nexthops.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    let macByIndex = Dictionary(links.map { ($0.index, $0.mac) }, uniquingKeysWith: { first, _ in first })
    var routers: [MACAddress: IPv6Address] = [:]
    for route in routes where route.family == .ipv6 && route.destination == nil
        && route.origin == Netlink.routerAdvertisementOrigin {
        let nexthop = route.nexthopID.flatMap { byID[$0] }
        guard case .v6(let gateway)? = route.gateway ?? nexthop?.gateway, gateway.isLinkLocal,
              let index = route.outputInterface ?? nexthop?.outputInterface, let mac = macByIndex[index] else { continue }
        routers[mac] = gateway
    }
    return routers
}

/// What a plan uses: the routers learned before, for the ENIs the metadata still has,
/// with what the kernel shows now on top. A kernel that cannot be read (the boot service
/// has no netlink, nor RAs yet) teaches nothing and takes nothing away.
func learnRouters(known: [MACAddress: IPv6Address], kernel: KernelState?, links: [Link], instance: Instance)
    -> [MACAddress: IPv6Address] {
    let macs = Set(instance.interfaces.map(\.mac))
    var routers = known.filter { macs.contains($0.key) }
    if let kernel, let routes = try? kernel.routes() {
        let nexthops = (try? kernel.nexthops()) ?? []
        for (mac, router) in routersInKernel(routes: routes, nexthops: nexthops, links: links) where macs.contains(mac) {
            routers[mac] = router
        }
    }
    return routers
}

/// The IPv6 ENIs whose first file this apply would write without their router: a present
/// link, no `.network` of ec2-netgen's for it yet, no router known. `files`: the names of
/// ec2-netgen's files in the managed directory now.
func routersAwaited(_ instance: Instance, links: [Link], routers: [MACAddress: IPv6Address], files: Set<String>) -> Set<MACAddress> {
    Set(instance.interfaces.filter { interface in
        !interface.ipv6s.isEmpty && routers[interface.mac] == nil && enaLink(for: interface.mac, in: links) != nil
            && !files.contains(Artifact.networkFileName(for: interface.mac))
    }.map(\.mac))
}

/// Waits, up to `limit`, for the router advertisements the catch-all accepts on the links
/// of `awaited`, so each ENI's first file carries its router's twins from the start: a
/// file without them leaves the ENI's table empty beyond its subnet until the RA, and the
/// apply that learns the router later reconfigures the link and drops its RA routes
/// (docs/decisions.md, the RA-route gap). The routers with what the kernel taught
/// meanwhile; a kernel that cannot be read ends the wait.
func awaitRouters(_ awaited: Set<MACAddress>, routers: [MACAddress: IPv6Address], kernel: KernelState, links: [Link],
                  clock: WaitClock, limit: Duration) -> [MACAddress: IPv6Address] {
    var routers = routers
    let deadline = clock.now() + limit
    while !awaited.allSatisfy({ routers[$0] != nil }) && clock.now() < deadline {
        clock.sleep(.milliseconds(50))
        guard let routes = try? kernel.routes() else { break }
        let taught = routersInKernel(routes: routes, nexthops: (try? kernel.nexthops()) ?? [], links: links)
        for mac in awaited { if let router = taught[mac] { routers[mac] = router } }
    }
    return routers
}
