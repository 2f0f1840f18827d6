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
