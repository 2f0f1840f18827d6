import EC2NetCore
import EC2NetFS
import EC2NetIO
@testable import EC2NetOps
import Foundation
import Testing
import EC2NetTestSupport

/// The IPv6 router an ENI's RAs come from: learned from the kernel, saved, and rendered as
/// a route in the ENI's table that outlives a reconfigure (docs/decisions.md, the RA-route gap).
struct LearnedRouterTests {
    static let router = IPv6Address("fe80::aa:ff:fe00:4")!
    static let links = [Link(name: "ens5", mac: MACAddress("02:00:00:00:01:01")!, driver: "ena", index: 2),
                        Link(name: "ens6", mac: MACAddress("02:00:00:00:01:02")!, driver: "ena", index: 3)]

    @Test("the router of an RA default route counts, directly (252) or through a nexthop object (257+); nothing else does")
    func kernelRouters() {
        let direct = Netlink.Route(family: .ipv6, table: 254, destination: nil, gateway: .v6(Self.router), outputInterface: 2,
                                   origin: Netlink.routerAdvertisementOrigin)
        let viaNexthop = Netlink.Route(family: .ipv6, table: 10001, destination: nil, nexthopID: 7,
                                       origin: Netlink.routerAdvertisementOrigin)
        let nexthop = Netlink.Nexthop(id: 7, gateway: .v6(IPv6Address("fe80::1")!), outputInterface: 3)
        #expect(routersInKernel(routes: [direct, viaNexthop], nexthops: [nexthop], links: Self.links)
            == [Self.links[0].mac: Self.router, Self.links[1].mac: IPv6Address("fe80::1")!])
        // Not from an RA (ec2-netgen's own static route), not link-local, not a default
        // route, not an ENI's link, a nexthop that is not there: none teaches a router.
        let ignored = [
            Netlink.Route(family: .ipv6, table: 10001, destination: nil, gateway: .v6(Self.router), outputInterface: 3, origin: 4),
            Netlink.Route(family: .ipv6, table: 254, destination: nil, gateway: .v6(IPv6Address("2001:db8::1")!), outputInterface: 3,
                          origin: Netlink.routerAdvertisementOrigin),
            Netlink.Route(family: .ipv6, table: 254, destination: IPPrefix("2001:db8::/64"), gateway: .v6(Self.router),
                          outputInterface: 3, origin: Netlink.routerAdvertisementOrigin),
            Netlink.Route(family: .ipv6, table: 254, destination: nil, gateway: .v6(Self.router), outputInterface: 9,
                          origin: Netlink.routerAdvertisementOrigin),
            Netlink.Route(family: .ipv6, table: 254, destination: nil, nexthopID: 8, origin: Netlink.routerAdvertisementOrigin),
        ]
        #expect(routersInKernel(routes: ignored, nexthops: [nexthop], links: Self.links).isEmpty)
    }

    @Test("the routers file: written sorted, read back, bad lines ignored, unchanged content not rewritten")
    func file() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let file = LearnedRouters(root: root.path)
        #expect(file.load().isEmpty)
        let routers = [Self.links[1].mac: Self.router, Self.links[0].mac: IPv6Address("fe80::1")!]
        #expect(try file.save(routers))
        #expect(file.load() == routers)
        #expect(try !file.save(routers))
        let text = try String(contentsOfFile: file.path, encoding: .utf8)
        #expect(text.hasSuffix("02:00:00:00:01:01 fe80::1\n02:00:00:00:01:02 fe80::aa:ff:fe00:4\n"))
        #expect(LearnedRouters.parse("02:00:00:00:01:01 fe80::1\nnonsense\n02:00:00:00:01:02 2001:db8::zz\n")
            == [Self.links[0].mac: IPv6Address("fe80::1")!])
    }

    @Test("apply learns the router from the kernel's RA route, renders a route through it, and keeps it while no RA route is there")
    func applyKeepsTheRouter() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let request = try DHCPv6HandoverTests.ipv6OnlyRequest(root: root)
        let ens6 = try #require(request.links.first { $0.name == "ens6" })
        var kernel = FakeKernel(ruleList: [], routeList: [
            Netlink.Route(family: .ipv6, table: 254, destination: nil, gateway: .v6(Self.router), outputInterface: ens6.index,
                          origin: Netlink.routerAdvertisementOrigin),
        ])
        _ = try apply(request, effects: SystemEffects(kernel: kernel))
        let name = Artifact.networkFileName(for: ens6.mac)
        let file = try String(contentsOfFile: root.path + "/run/systemd/network/" + name, encoding: .utf8)
        #expect(file.contains("[Route]\nGateway=fe80::aa:ff:fe00:4\nTable=10001\nMetric=2048\n"))
        #expect(LearnedRouters(root: root.path).load() == [ens6.mac: Self.router])
        // A reconfigure dropped the RA route: the next apply plans from what was learned.
        kernel.routeList = []
        let report = try apply(request, effects: SystemEffects(kernel: kernel))
        #expect(!report.sync.changed, "the route through the router went away with the RA route")
    }

    @Test("an IPv6 ENI's first file waits for its router's advertisement, up to the limit; a later apply does not wait")
    func firstFileWaitsForTheRouter() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let request = try DHCPv6HandoverTests.ipv6OnlyRequest(root: root)
        let ens6 = try #require(request.links.first { $0.name == "ens6" })
        let name = Artifact.networkFileName(for: ens6.mac)
        let ra = [Netlink.Route(family: .ipv6, table: 254, destination: nil, gateway: .v6(Self.router), outputInterface: ens6.index,
                                origin: Netlink.routerAdvertisementOrigin)]
        // The RA comes on the fourth look: the first file already routes through the router.
        let late = LateRAKernel(raRoutes: ra, shownFrom: 4), clock = TestClock()
        _ = try apply(request, effects: SystemEffects(kernel: late, clock: clock))
        let file = try String(contentsOfFile: root.path + "/run/systemd/network/" + name, encoding: .utf8)
        #expect(file.contains("[Route]\nGateway=fe80::aa:ff:fe00:4\nTable=10001\nMetric=2048\n"))
        #expect(clock.sleeps.reduce(.zero, +) == .milliseconds(150), "\(clock.sleeps)")
        // No RA within the limit: the file is written without the route, once the limit is up.
        let other = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: other) }
        let never = LateRAKernel(raRoutes: ra, shownFrom: nil), patient = TestClock()
        let unanswered = try DHCPv6HandoverTests.ipv6OnlyRequest(root: other)
        _ = try apply(unanswered, effects: SystemEffects(kernel: never, clock: patient))
        let bare = try String(contentsOfFile: other.path + "/run/systemd/network/" + name, encoding: .utf8)
        #expect(!bare.contains("Gateway=fe80::") && patient.sleeps.reduce(.zero, +) == unanswered.routerWait, "\(patient.sleeps)")
        // Its file exists now: the next apply plans at once (the refresh learns the router when it comes).
        let again = TestClock()
        _ = try apply(try DHCPv6HandoverTests.ipv6OnlyRequest(root: other), effects: SystemEffects(kernel: never, clock: again))
        #expect(again.sleeps.isEmpty, "\(again.sleeps)")
    }

    @Test("which ENIs wait: IPv6, on a present link, with no file of ec2-netgen's yet and no router known")
    func awaitedENIs() throws {
        let instance = try parse(TestSupport.document(#"""
            {"meta-data": {"mac": "02:00:00:00:01:01", "network": {"interfaces": {"macs": {
              "02:00:00:00:01:01": {"device-number": "0", "local-ipv4s": "10.0.1.10", "subnet-ipv4-cidr-block": "10.0.1.0/24"},
              "02:00:00:00:01:02": {"device-number": "1", "ipv6s": "2001:db8:0:2::20", "subnet-ipv6-cidr-blocks": "2001:db8:0:2::/64"},
              "02:00:00:00:01:03": {"device-number": "2", "ipv6s": "2001:db8:0:3::30", "subnet-ipv6-cidr-blocks": "2001:db8:0:3::/64"}}}}}}
            """#))
        let second = Self.links[1].mac
        #expect(routersAwaited(instance, links: Self.links, routers: [:], files: []) == [second])
        #expect(routersAwaited(instance, links: Self.links, routers: [second: Self.router], files: []).isEmpty)
        #expect(routersAwaited(instance, links: Self.links, routers: [:], files: [Artifact.networkFileName(for: second)]).isEmpty)
        #expect(routersAwaited(instance, links: [Self.links[0]], routers: [:], files: []).isEmpty)
    }
}
