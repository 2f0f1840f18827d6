import EC2NetCore
import EC2NetFS
import EC2NetIO
import EC2NetOps
import EC2NetTestSupport
import Foundation
import Testing

/// The status operation: typed problems for each way the system differs from the plan.
@Suite(.serialized)
struct StatusOperationTests {
    @Test("an offline apply (--metadata) leaves a record status checks against, not a boot cache")
    func offlineRecord() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let request = try ThreeENIs.applyRequest(root: root)
        _ = try apply(request, effects: .none)
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("var/lib/ec2-netgen/metadata.json").path))
        let report = status(StatusRequest(root: root.path, links: request.links, options: PlanOptions()), effects: .none)
        #expect(report.inSync, "\(report.problems) \(report.interfaces.map(\.problems))")
    }

    @Test("status: a missing .network makes its ENI and the total not in sync")
    func missingFileIsNamedOnItsENI() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let request = try ThreeENIs.applyRequest(root: root)
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
        let request = try ThreeENIs.applyRequest(root: root)
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
        let request = try ThreeENIs.applyRequest(root: root)
        _ = try apply(request, effects: .none)
        let strangers = [Link(name: "eth0", mac: try #require(MACAddress("02:99:00:00:00:01")), driver: "ena", index: 2)]
        let report = status(StatusRequest(root: root.path, links: strangers, options: PlanOptions()), effects: .none)
        #expect(!report.inSync)
        #expect(report.problems.first?.kind == .noENIConfigured, "\(report.problems)")
        // And the files of the ENIs it cannot see are unexpected now.
        #expect(report.problems.dropFirst().map(\.kind) == Array(repeating: .strayFile, count: 8), "\(report.problems)")
    }

    @Test("status: networkd not running, kernel drift and a failed or stale IMDS read are problems")
    func liveProblems() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let request = try ThreeENIs.applyRequest(root: root)
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

    @Test("status: an ENI left alone is a note naming the file networkd configures it from, unless that is ec2-netgen's 79- file")
    func leftAloneNote() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        var request = try ThreeENIs.applyRequest(root: root)
        let second = try #require(MACAddress("02:00:00:00:00:02"))
        request.options.overrides = [InterfaceOverride(selector: .mac(second), managed: false)]
        _ = try apply(request, effects: .none)
        let networkd = RecordingNetworkd()
        let directory = ManagedDirectory(root: root.path).path
        for (index, mac) in [(2, "020000000001"), (4, "020000000003")] { networkd.applied[index] = "\(directory)/05-ec2-netgen-\(mac).network" }
        networkd.applied[3] = "/run/systemd/network/10-netplan-ens6.network"
        let options = request.options
        var report = status(StatusRequest(root: root.path, links: request.links, options: options),
                            effects: SystemEffects(networkd: networkd))
        #expect(report.inSync, "\(report.problems) \(report.interfaces.map(\.problems))")
        #expect(report.notes.contains("02:00:00:00:00:02 (ens6) is left alone, and networkd configures it from /run/systemd/network/10-netplan-ens6.network"),
                "\(report.notes)")
        networkd.applied[3] = "\(directory)/79-ec2-netgen-020000000002.network"
        report = status(StatusRequest(root: root.path, links: request.links, options: options), effects: SystemEffects(networkd: networkd))
        #expect(!report.notes.contains { $0.contains("is left alone, and networkd configures it") }, "\(report.notes)")
    }
}
