import EC2NetCore
import Testing
import EC2NetTestSupport

/// The planner: numbering, link choice, skips, errors.
struct PlannerTests {
    /// One ENI's metadata directory, as IMDS lists it.
    static func eni(device: Int, ipv4: String, subnet: String, card: Int? = nil) -> String {
        let cardKey = card.map { #", "network-card": "\#($0)""# } ?? ""
        return #"{"device-number": "\#(device)"\#(cardKey), "local-ipv4s": "\#(ipv4)", "subnet-ipv4-cidr-block": "\#(subnet)"}"#
    }

    /// A primary (02:…:01 in 10.0.1.0/24) and a second ENI (02:…:02 in 10.0.2.0/24).
    static func twoENIs(primaryDevice: Int = 0, secondDevice: Int, card: Int? = nil) throws -> Instance {
        try parse(TestSupport.document("""
            {"meta-data": {"mac": "02:00:00:00:00:01", "network": {"interfaces": {"macs": {
              "02:00:00:00:00:01": \(eni(device: primaryDevice, ipv4: "10.0.1.10", subnet: "10.0.1.0/24")),
              "02:00:00:00:00:02": \(eni(device: secondDevice, ipv4: "10.0.2.20", subnet: "10.0.2.0/24", card: card))}}}}}
            """))
    }

    static func links(_ macs: [String]) -> [Link] {
        macs.enumerated().compactMap { index, mac in
            MACAddress(mac).map { Link(name: "ens\(5 + index)", mac: $0, driver: "ena", index: index + 2) }
        }
    }

    @Test("the primary gets rules in both bands; main rule once per family")
    func primaryRules() throws {
        let instance = try Self.twoENIs(secondDevice: 1)
        let plan = try EC2NetCore.plan(instance, links: Self.links(["02:00:00:00:00:01", "02:00:00:00:00:02"]), options: PlanOptions())
        let primary = try #require(plan.interfaces.first)
        #expect(primary.isPrimary)
        #expect(primary.rules.map(\.priority) == [10000, 21000])
        #expect(plan.interfaces[1].rules.map(\.priority) == [10001, 21001])
        #expect(plan.interfaces[1].table == 10001)
        #expect(plan.mainRules.count == 1)
        #expect(plan.mainRules[0].priority == 20000 && plan.mainRules[0].table == nil)
    }

    @Test("two ENIs on one (card, device) are an error")
    func duplicateDevice() throws {
        let instance = try Self.twoENIs(primaryDevice: 1, secondDevice: 1, card: 0)
        #expect(throws: InputError.duplicateDevice(card: 0, device: 1, macs: [MACAddress("02:00:00:00:00:01")!, MACAddress("02:00:00:00:00:02")!])) {
            try EC2NetCore.plan(instance, links: Self.links(["02:00:00:00:00:01", "02:00:00:00:00:02"]), options: PlanOptions())
        }
    }

    @Test("device-number 0 on a secondary is IMDS lag: skipped as incomplete")
    func lag() throws {
        let instance = try Self.twoENIs(secondDevice: 0)
        let plan = try EC2NetCore.plan(instance, links: Self.links(["02:00:00:00:00:01", "02:00:00:00:00:02"]), options: PlanOptions())
        #expect(plan.interfaces.count == 1)
        guard case .incomplete = plan.skipped.first?.reason else {
            Issue.record("expected incomplete, got \(plan.skipped)")
            return
        }
    }

    @Test("absent links: skipped, unless rendering for boot")
    func absent() throws {
        let instance = try Self.twoENIs(secondDevice: 1)
        let live = try EC2NetCore.plan(instance, links: Self.links(["02:00:00:00:00:01"]), options: PlanOptions())
        #expect(live.interfaces.count == 1)
        #expect(live.skipped.first?.reason == .notAttached)
        var boot = PlanOptions()
        boot.includeAbsentLinks = true
        let cached = try EC2NetCore.plan(instance, links: [], options: boot)
        #expect(cached.interfaces.count == 2)
        #expect(cached.interfaces.allSatisfy { $0.linkName == nil })
    }

    @Test("new links wait for their file once the primary ENI is planned on a present link, else the catch-all's DHCP")
    func newLinks() throws {
        let instance = try Self.twoENIs(secondDevice: 1)
        let both = Self.links(["02:00:00:00:00:01", "02:00:00:00:00:02"])
        #expect(try EC2NetCore.plan(instance, links: both, options: PlanOptions()).newLinks == .waitForFile)
        // Only the second ENI's link present: a document of another instance, or its link not there yet.
        #expect(try EC2NetCore.plan(instance, links: Self.links(["02:00:00:00:00:09", "02:00:00:00:00:02"]),
                                    options: PlanOptions()).newLinks == .dhcp)
        // The boot path before coldplug: every ENI planned, no link present.
        var boot = PlanOptions()
        boot.includeAbsentLinks = true
        #expect(try EC2NetCore.plan(instance, links: [], options: boot).newLinks == .dhcp)
        // The primary's link managed by someone else: ec2-netgen did not configure it.
        var claimed = both
        claimed[0].managedBy = "org.freedesktop.NetworkManager"
        #expect(try EC2NetCore.plan(instance, links: claimed, options: PlanOptions()).newLinks == .dhcp)
    }

    @Test("a link claimed by another manager is left alone")
    func managedBy() throws {
        let instance = try Self.twoENIs(secondDevice: 1)
        var links = Self.links(["02:00:00:00:00:01", "02:00:00:00:00:02"])
        links[1].managedBy = "org.freedesktop.NetworkManager"
        let plan = try EC2NetCore.plan(instance, links: links, options: PlanOptions())
        #expect(plan.interfaces.count == 1)
        #expect(plan.skipped.first?.reason == .managedBy("org.freedesktop.NetworkManager"))
    }

    @Test("the managed decision: configuration first, then udev's manager; ec2-netgen's own name is no other manager")
    func management() throws {
        var settings = InterfaceSettings()
        let link = Link(name: "ens6", mac: MACAddress("02:00:00:00:00:02")!, driver: "ena", index: 3)
        #expect(Management.leftAlone(link: link, settings: settings) == nil)
        #expect(Management.leftAlone(link: nil, settings: settings) == nil)
        var claimed = link
        claimed.managedBy = Management.ownManagerName
        #expect(Management.leftAlone(link: claimed, settings: settings) == nil)
        claimed.managedBy = ""
        #expect(Management.leftAlone(link: claimed, settings: settings) == nil)
        claimed.managedBy = Management.manager(ec2NetgenNIC: "0", managedBy: "org.freedesktop.NetworkManager")
        #expect(Management.leftAlone(link: claimed, settings: settings) == .managedBy("udev rule (EC2_NETGEN_NIC=0)"))
        claimed.managedBy = Management.manager(ec2NetgenNIC: "1", managedBy: "org.freedesktop.NetworkManager")
        #expect(Management.leftAlone(link: claimed, settings: settings) == .managedBy("org.freedesktop.NetworkManager"))
        settings.managed = false
        #expect(Management.leftAlone(link: claimed, settings: settings) == .optedOut)
        #expect(Management.keptFromCatchAll(.optedOut) && Management.keptFromCatchAll(.managedBy("x")))
        #expect(![.notAttached, .noAddresses, .incomplete("lag")].contains { Management.keptFromCatchAll($0) })
    }

    @Test("the udev rule marks exactly the drivers the planner counts as EC2 NICs")
    func udevRuleDrivers() throws {
        let rule = try String(contentsOf: TestSupport.repository.appendingPathComponent("units/99-ec2-netgen.rules"), encoding: .utf8)
        let lists = rule.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { line -> Set<String>? in
            guard let start = line.range(of: "DRIVERS==\"") else { return nil }
            return Set(line[start.upperBound...].prefix { $0 != "\"" }.split(separator: "|").map(String.init))
        }
        #expect(lists == [Link.enaDrivers])
    }

    @Test("rendering is deterministic")
    func deterministic() throws {
        let instance = try Self.twoENIs(secondDevice: 1)
        let links = Self.links(["02:00:00:00:00:02", "02:00:00:00:00:01"])
        let first = render(try EC2NetCore.plan(instance, links: links, options: PlanOptions()))
        let second = render(try EC2NetCore.plan(instance, links: links.reversed(), options: PlanOptions()))
        #expect(first == second)
        #expect(first.map(\.name) == first.map(\.name).sorted())
        #expect(first.allSatisfy { $0.mode == 0o644 && $0.contents.hasPrefix(Artifact.headerLine + "\n") })
    }
}
