import EC2NetCore
import EC2NetFS
import EC2NetIO
import EC2NetOps
import Foundation
import Testing

/// Recording fakes of the system seams: they remember every call and answer as told.
final class RecordingNetworkd: NetworkdService {
    var reloads = 0
    var running = true
    var applied: [Int: String] = [:]
    /// Setup state per ifindex; links not listed are "configured".
    var states: [Int: String] = [:]
    var reconfigured: [Int] = []
    /// Runs on each reconfigure (a fake kernel puts addresses back).
    var onReconfigure: (Int) -> Void = { _ in }
    func reload() throws(IOError) -> ReloadOutcome {
        reloads += 1
        return running ? .reloaded : .notRunning
    }
    func isRunning() -> Bool { running }
    func appliedNetworkFile(ifindex: Int) -> String? { applied[ifindex] }
    func setupState(ifindex: Int) -> String? { states[ifindex] ?? "configured" }
    func reconfigure(ifindex: Int) throws(IOError) {
        reconfigured.append(ifindex)
        onReconfigure(ifindex)
    }
}

final class RecordingTrigger: LinkTrigger {
    /// Every call in order: "reload" or the link an add was re-fired for.
    var calls: [String] = []
    var triggered: [String] { calls.filter { $0 != "reload" } }
    func reloadConfiguration() throws(IOError) { calls.append("reload") }
    func triggerAdd(link: String) throws(IOError) { calls.append(link) }
}

final class RecordingLog: EventLog {
    var events: [(Journal.Event, String)] = []
    func record(_ event: Journal.Event, priority: Int32, message: String, fields: [String: String]) {
        events.append((event, fields["EC2_ENI_ID"] ?? fields["EC2_FILE"] ?? ""))
    }
}

struct FakeKernel: KernelState {
    var ruleList: [RoutingPolicyRule]
    var routeList: [Netlink.Route]
    var nexthopList: [Netlink.Nexthop] = []
    var addressList: [Netlink.Address] = []
    func rules() throws(IOError) -> [RoutingPolicyRule] { ruleList }
    func routes() throws(IOError) -> [Netlink.Route] { routeList }
    func nexthops() throws(IOError) -> [Netlink.Nexthop] { nexthopList }
    func addresses() throws(IOError) -> [Netlink.Address] { addressList }
}

/// A kernel whose addresses are set by the test; it counts its dumps.
final class AddressKernel: KernelState {
    var addressList: [Netlink.Address]
    var dumps = 0
    /// Runs before each dump with its number (1 for the first): the kernel changing.
    var onDump: (Int) -> Void = { _ in }
    init(_ addresses: [Netlink.Address]) { addressList = addresses }
    func rules() throws(IOError) -> [RoutingPolicyRule] { [] }
    func routes() throws(IOError) -> [Netlink.Route] { [] }
    func nexthops() throws(IOError) -> [Netlink.Nexthop] { [] }
    func addresses() throws(IOError) -> [Netlink.Address] {
        dumps += 1
        onDump(dumps)
        return addressList
    }
}

/// A udevd whose reload fails, as `udevadm control --reload` does when udevd is not running.
final class RefusingTrigger: LinkTrigger {
    var triggered: [String] = []
    func reloadConfiguration() throws(IOError) { throw .udev(operation: "udevadm control --reload exited with 1", code: 0) }
    func triggerAdd(link: String) throws(IOError) { triggered.append(link) }
}

/// The apply and status operations with their side effects replaced by recording fakes.
@Suite(.serialized)
struct OperationsTests {
    static let example = TestSupport.repository.appendingPathComponent("examples/three-enis")

    static func request(root: URL) throws -> ApplyRequest {
        let document = try MetadataDocument(bytes: Array(try Data(contentsOf: example.appendingPathComponent("metadata.json"))),
                                            source: "metadata.json")
        let links = try Link.parseList(Array(try Data(contentsOf: example.appendingPathComponent("links.json"))), source: "links.json")
        return ApplyRequest(source: .document(document, source: "metadata.json"), root: root.path, links: links, options: PlanOptions())
    }

    @Test("apply tells networkd, udev and the journal only what changed, and nothing on a second run")
    func effectsOnlyOnChange() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let networkd = RecordingNetworkd(), trigger = RecordingTrigger(), log = RecordingLog()
        let effects = SystemEffects(networkd: networkd, trigger: trigger, log: log)
        let first = try apply(Self.request(root: root), effects: effects)
        #expect(first.reload == .reloaded && networkd.reloads == 1)
        #expect(trigger.calls == ["reload", "ens5", "ens6", "ens7"], "udevd must re-read the .link files before the events")
        #expect(log.events.map(\.0) == [.eniConfigured, .eniConfigured, .eniConfigured])
        #expect(log.events.map(\.1) == ["eni-0a1b2c3d4e5f60001", "eni-0a1b2c3d4e5f60002", "eni-0a1b2c3d4e5f60003"])
        let second = try apply(Self.request(root: root), effects: effects)
        #expect(second.reload == nil && networkd.reloads == 1, "a no-change apply reloaded networkd")
        #expect(trigger.calls.count == 4 && log.events.count == 3)
        #expect(second.lines().last == "no change: 7 files up to date")
    }

    @Test("the boot path has udevd re-read the .link files but sends no event: coldplug follows")
    func bootReloadsOnly() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let trigger = RecordingTrigger()
        var request = try Self.request(root: root)
        request.retriggerLinks = false
        let report = try apply(request, effects: SystemEffects(trigger: trigger))
        #expect(trigger.calls == ["reload"] && report.warnings.isEmpty)
    }

    @Test("first boot (no cache): on a locked systemd-imds host only the catch-all is written, nothing removed; else nothing")
    func firstBootWithoutCache() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        var request = try Self.request(root: root)
        request.source = .cache
        #expect(throws: ApplyError.self, "a hand-run --cached without a cache still says so") {
            try apply(request, effects: .none)
        }
        request.includeAbsentLinks = true
        let off = try apply(request, effects: .none)
        #expect(!off.sync.changed && off.plan.interfaces.isEmpty)
        // A file of an earlier run stays: without metadata nothing is known to be stale.
        let directory = ManagedDirectory(root: root.path)
        let earlier = Artifact(name: Artifact.networkFileName(for: MACAddress("02:00:00:00:00:09")!),
                               contents: Artifact.headerLine + "\n[Match]\nName=ens9\n")
        _ = try directory.sync([earlier])
        request.options.imdsNetworking = .locked
        let networkd = RecordingNetworkd()
        let locked = try apply(request, effects: SystemEffects(networkd: networkd))
        #expect(locked.sync.created == [Artifact.catchAllName] && locked.sync.removed.isEmpty)
        #expect(try directory.managedFiles().sorted() == [earlier.name, Artifact.catchAllName].sorted())
        #expect(networkd.reloads == 1)
        let written = try String(contentsOfFile: directory.path + "/" + Artifact.catchAllName, encoding: .utf8)
        #expect(written.contains("Type=prohibit"))
    }

    @Test("a udevd that cannot reload costs at most the altnames: a warning that says so, and the events still go out")
    func reloadFailure() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let trigger = RefusingTrigger()
        let report = try apply(Self.request(root: root), effects: SystemEffects(trigger: trigger))
        #expect(report.sync.created.count == 7 && trigger.triggered == ["ens5", "ens6", "ens7"])
        #expect(report.warnings == ["udev: udevadm control --reload exited with 1 (the re-sent add events may still get the old .link; it applies at the link's next add event)"])
    }

    /// Golden case 06: ens6 (ifindex 3) is IPv6-only, so its file keeps DHCPv6 for DNS and
    /// declares 2600:1f14:abc:d02::20 and ::21 static.
    static func ipv6OnlyRequest(root: URL) throws -> ApplyRequest {
        let input = TestSupport.repository.appendingPathComponent("Tests/Golden/06-ipv6-only/input")
        let document = try MetadataDocument(bytes: Array(try Data(contentsOf: input.appendingPathComponent("metadata.json"))),
                                            source: "metadata.json")
        let links = try Link.parseList(Array(try Data(contentsOf: input.appendingPathComponent("links.json"))), source: "links.json")
        var request = ApplyRequest(source: .document(document, source: "metadata.json"), root: root.path, links: links, options: PlanOptions())
        return request
    }

    static func ens6(_ address: String) -> Netlink.Address {
        Netlink.Address(address: IPAddress(address)!, prefixLength: 128, interfaceIndex: 3)
    }

    @Test("the reload that takes an IPv6-only ENI over from the catch-all: apply waits until its addresses stay, reconfigures nothing")
    func handoverKept() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let request = try Self.ipv6OnlyRequest(root: root)
        let networkd = RecordingNetworkd(), kernel = AddressKernel([Self.ens6("2600:1f14:abc:d02::20"), Self.ens6("2600:1f14:abc:d02::21")])
        let report = try apply(request, effects: SystemEffects(networkd: networkd, kernel: kernel, clock: TestClock()))
        #expect(networkd.reconfigured.isEmpty && report.warnings.isEmpty, "\(report.warnings)")
        #expect(kernel.dumps >= 2, "the addresses must be seen to stay, not only once")
        // The file exists now: a later apply that changes it is a plain reload, not a hand-over.
        let dumps = kernel.dumps
        var later = request
        guard case .document(let document, _, _) = request.source else { Issue.record("not a document"); return }
        let text = String(decoding: document.serializedBytes(), as: UTF8.self)
            .replacingOccurrences(of: "2600:1f14:abc:d02::21", with: "2600:1f14:abc:d02::21\\n2600:1f14:abc:d02::22")
        later.source = .document(try MetadataDocument(bytes: Array(text.utf8), source: "metadata.json"), source: "metadata.json")
        let second = try apply(later, effects: SystemEffects(networkd: networkd, kernel: kernel, clock: TestClock()))
        #expect(second.sync.updated.count == 1 && networkd.reloads == 2 && kernel.dumps == dumps, "\(second.sync)")
    }

    @Test("networkd drops the address during the hand-over (networkd 257): apply reconfigures that link once and says so")
    func handoverRepaired() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let networkd = RecordingNetworkd(), kernel = AddressKernel([Self.ens6("2600:1f14:abc:d02::21")])
        networkd.onReconfigure = { _ in kernel.addressList.append(Self.ens6("2600:1f14:abc:d02::20")) }
        let report = try apply(Self.ipv6OnlyRequest(root: root), effects: SystemEffects(networkd: networkd, kernel: kernel, clock: TestClock()))
        #expect(networkd.reconfigured == [3])
        #expect(report.warnings == ["networkd dropped 2600:1f14:abc:d02::20 from ens6 while taking the link over from the DHCP catch-all "
            + "(networkd 257 and 262 file it under the old DHCPv6 lease); asked it to reconfigure ens6"])
    }

    @Test("networkd 262 drops the address and leaves the link configuring: once gone for the settle time, apply reconfigures it")
    func handoverRepairedWhileConfiguring() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let kept = Self.ens6("2600:1f14:abc:d02::21"), dropped = Self.ens6("2600:1f14:abc:d02::20")
        let networkd = RecordingNetworkd(), kernel = AddressKernel([kept, dropped])
        networkd.states[3] = "configuring"
        kernel.onDump = { dump in if dump == 2 { kernel.addressList = [kept] } }
        networkd.onReconfigure = { _ in
            kernel.addressList = [kept, dropped]
            networkd.states[3] = "configured"
        }
        let report = try apply(Self.ipv6OnlyRequest(root: root), effects: SystemEffects(networkd: networkd, kernel: kernel, clock: TestClock()))
        #expect(networkd.reconfigured == [3])
        #expect(report.warnings == ["networkd dropped 2600:1f14:abc:d02::20 from ens6 while taking the link over from the DHCP catch-all "
            + "(networkd 257 and 262 file it under the old DHCPv6 lease); asked it to reconfigure ens6"])
    }

    @Test("a link still configuring is waited for, not reconfigured; an address still missing at the limit is named")
    func handoverLimit() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let networkd = RecordingNetworkd(), kernel = AddressKernel([Self.ens6("2600:1f14:abc:d02::21")])
        networkd.states[3] = "configuring"
        let report = try apply(Self.ipv6OnlyRequest(root: root), effects: SystemEffects(networkd: networkd, kernel: kernel, clock: TestClock()))
        #expect(networkd.reconfigured.isEmpty)
        #expect(report.warnings == ["2600:1f14:abc:d02::20 still not on ens6 8.0 seconds after the reload; "
            + "`networkctl reconfigure ens6` applies it again"])
    }

    @Test("apply with SystemEffects.none writes the files and touches nothing else")
    func noEffects() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let report = try apply(Self.request(root: root), effects: .none)
        #expect(report.reload == nil && report.sync.created.count == 7)
    }

    @Test("an offline apply (--metadata) leaves a record status checks against, not a boot cache")
    func offlineRecord() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let request = try Self.request(root: root)
        _ = try apply(request, effects: .none)
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("var/lib/ec2-netgen/metadata.json").path))
        let report = status(StatusRequest(root: root.path, links: request.links, options: PlanOptions()), effects: .none)
        #expect(report.inSync, "\(report.problems) \(report.interfaces.map(\.problems))")
    }

    @Test("status: a missing .network makes its ENI and the total not in sync")
    func missingFileIsNamedOnItsENI() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let request = try Self.request(root: root)
        _ = try apply(request, effects: .none)
        try FileManager.default.removeItem(at: root.appendingPathComponent("run/systemd/network/05-ec2-netgen-020000000002.network"))
        let report = status(StatusRequest(root: root.path, links: request.links, options: PlanOptions()), effects: .none)
        #expect(!report.inSync)
        let entry = try #require(report.interfaces.first { $0.plan.linkName == "ens6" })
        #expect(entry.problems.map(\.kind) == [.missingFile] && entry.problems[0].detail.hasSuffix("05-ec2-netgen-020000000002.network is missing: run `ec2-netgen apply`"),
                "\(entry.problems)")
        #expect(report.interfaces.filter { $0.problems.isEmpty }.count == 2)
        let json = report.json().serialized()
        #expect(json.contains("\"schema\": 1") && json.contains("\"in-sync\": false"))
    }

    @Test("status: a detached ENI's leftover file is a problem, as apply removes it")
    func detachedENIsFileIsUnexpected() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let request = try Self.request(root: root)
        _ = try apply(request, effects: .none)
        let attached = request.links.filter { $0.name != "ens6" }
        let report = status(StatusRequest(root: root.path, links: attached, options: PlanOptions()), effects: .none)
        #expect(!report.inSync)
        #expect(report.problems.map(\.kind) == [.strayFile, .strayFile], "\(report.problems)")
        #expect(report.problems.map { $0.detail.split(separator: "/").last.map(String.init) ?? "" } == [
            "05-ec2-netgen-020000000002.link belongs to no configured ENI: run `ec2-netgen apply`",
            "05-ec2-netgen-020000000002.network belongs to no configured ENI: run `ec2-netgen apply`",
        ])
        // apply agrees: the same file goes.
        var detached = request
        detached.links = attached
        _ = try apply(detached, effects: .none)
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("run/systemd/network/05-ec2-netgen-020000000002.network").path))
        #expect(status(StatusRequest(root: root.path, links: attached, options: PlanOptions()), effects: .none).inSync)
    }

    @Test("status: links that match no ENI of the metadata are not in sync (nothing was checked)")
    func noMatchingLinks() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let request = try Self.request(root: root)
        _ = try apply(request, effects: .none)
        let strangers = [Link(name: "eth0", mac: try #require(MACAddress("02:99:00:00:00:01")), driver: "ena", index: 2)]
        let report = status(StatusRequest(root: root.path, links: strangers, options: PlanOptions()), effects: .none)
        #expect(!report.inSync)
        #expect(report.problems.first?.kind == .noENIConfigured, "\(report.problems)")
        // And the files of the ENIs it cannot see are unexpected now.
        #expect(report.problems.dropFirst().map(\.kind) == Array(repeating: .strayFile, count: 7), "\(report.problems)")
    }

    @Test("status: networkd not running, kernel drift and a failed or stale IMDS read are problems")
    func liveProblems() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let request = try Self.request(root: root)
        let result = try apply(request, effects: .none)
        let networkd = RecordingNetworkd()
        networkd.running = false
        let allRules = result.plan.interfaces.flatMap(\.rules) + result.plan.mainRules
        let allRoutes = result.plan.interfaces.flatMap(\.routes).map {
            Netlink.Route(family: $0.family, table: $0.table, destination: $0.destination)
        }
        let fine = FakeKernel(ruleList: allRules, routeList: allRoutes)
        var report = status(StatusRequest(root: root.path, links: request.links, options: PlanOptions()),
                            effects: SystemEffects(networkd: networkd, kernel: fine))
        #expect(report.problems.map(\.kind) == [.networkdNotRunning], "\(report.problems)")
        networkd.running = true
        report = status(StatusRequest(root: root.path, links: request.links, options: PlanOptions()),
                        effects: SystemEffects(networkd: networkd, kernel: fine))
        #expect(report.inSync, "\(report.problems) \(report.interfaces.map(\.problems))")
        let drifted = FakeKernel(ruleList: Array(allRules.dropFirst()), routeList: allRoutes)
        report = status(StatusRequest(root: root.path, links: request.links, options: PlanOptions()),
                        effects: SystemEffects(networkd: networkd, kernel: drifted))
        #expect(!report.inSync && report.interfaces.flatMap(\.problems).map(\.kind) == [.missingRules], "\(report.interfaces.map(\.problems))")
        // A failed last read, then a good one that is too old.
        let record = root.appendingPathComponent("run/ec2-netgen/last-imds")
        let now = Int(Date().timeIntervalSince1970.rounded())
        try String("failed \(now - 5) imds: timed out\n").write(to: record, atomically: true, encoding: .utf8)
        report = status(StatusRequest(root: root.path, links: request.links, options: PlanOptions(), now: now),
                        effects: SystemEffects(networkd: networkd, kernel: fine))
        #expect(report.problems.map(\.kind) == [.imdsReadFailed], "\(report.problems)")
        try String("ok \(now - 200) imds: 3 requests\n").write(to: record, atomically: true, encoding: .utf8)
        report = status(StatusRequest(root: root.path, links: request.links, options: PlanOptions(), now: now),
                        effects: SystemEffects(networkd: networkd, kernel: fine))
        #expect(report.problems.map(\.kind) == [.imdsReadStale] && report.problems[0].detail.contains("200 s ago"), "\(report.problems)")
    }
}
