import EC2NetCore
import EC2NetFS
import EC2NetIO
import EC2NetOps
import EC2NetTestSupport
import Foundation
import Testing

/// An apply that brings static addresses onto a link writes that ENI's file without them
/// first, and adds them once networkd has installed their rules and table.
@Suite(.serialized)
struct AddressStagingTests {
    /// The example's ens6 (ifindex 3): 10.0.2.20 from DHCP, 10.0.2.21 and .22 and two IPv6
    /// addresses static.
    static let ens6File = Artifact.networkFileName(for: MACAddress("02:00:00:00:00:02")!)

    /// The example's apply, without the wait for IPv6 routers (RouterLearning.swift), so
    /// that every pause on the test clock is this step's.
    static func request(root: URL) throws -> ApplyRequest {
        var request = try ThreeENIs.applyRequest(root: root)
        request.routerWait = .zero
        return request
    }

    static func plan(root: URL) throws -> Plan {
        let request = try ThreeENIs.applyRequest(root: root)
        guard case .document(let document, _, _) = request.source else { throw TestFailure("not a document") }
        return try EC2NetCore.plan(try parse(document), links: request.links, options: request.options)
    }

    /// The planned static addresses of the named links, as the kernel lists them.
    static func addresses(of plan: Plan, on names: Set<String>) -> [Netlink.Address] {
        let indices = ["ens5": 2, "ens6": 3, "ens7": 4]
        return plan.interfaces.filter { names.contains($0.linkName ?? "") }.flatMap { interface in
            interface.addresses.map { Netlink.Address(address: $0.address, prefixLength: $0.length, interfaceIndex: indices[interface.linkName!]!) }
        }
    }

    static func fileText(root: URL) -> String {
        (try? String(contentsOfFile: ManagedDirectory(root: root.path).path + "/" + ens6File, encoding: .utf8)) ?? ""
    }

    @Test("a new ENI's static addresses come after its rules and table: a first file without them, a reload, the full file")
    func addressesAfterRules() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let planned = try Self.plan(root: root)
        // Every ENI but ens6 is configured already; ens6 has just been attached.
        let kernel = AddressKernel(Self.addresses(of: planned, on: ["ens5", "ens7"]))
        let networkd = RecordingNetworkd()
        var filesAtReload: [String] = []
        var rulesBeforeReload: [Int] = []
        networkd.onReload = {
            filesAtReload.append(Self.fileText(root: root))
            rulesBeforeReload.append(kernel.ruleList.count)
            kernel.install(planned)
        }
        let clock = TestClock()
        let report = try apply(Self.request(root: root), effects: SystemEffects(networkd: networkd, kernel: kernel, clock: clock))
        #expect(networkd.reloads == 2, "one reload for the rules, one for the addresses")
        #expect(filesAtReload.count == 2 && rulesBeforeReload == [0, planned.mainRules.count + planned.interfaces.flatMap(\.rules).count])
        let first = filesAtReload.first ?? "", last = filesAtReload.last ?? ""
        for address in ["10.0.2.21/32", "10.0.2.22/32", "2600:1f14:abc:d02::21/128"] {
            #expect(!first.contains("Address=\(address)") && last.contains("Address=\(address)"), "\(address)")
        }
        #expect(first.contains("From=10.0.2.21/32") && first.contains("Table=10001"), "the first file already has the rules")
        #expect(clock.sleeps.isEmpty, "the rules were there at the first look")
        #expect(report.sync.created.contains(Self.ens6File) && !report.sync.updated.contains(Self.ens6File),
                "the ENI's file counts as created once: \(report.sync)")
        #expect(report.warnings.isEmpty, "\(report.warnings)")
    }

    @Test("addresses already on their links are never withheld: one write, one reload")
    func presentAddressesStay() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let planned = try Self.plan(root: root)
        let kernel = AddressKernel(Self.addresses(of: planned, on: ["ens5", "ens6", "ens7"]))
        let networkd = RecordingNetworkd()
        _ = try apply(Self.request(root: root), effects: SystemEffects(networkd: networkd, kernel: kernel, clock: TestClock()))
        #expect(networkd.reloads == 1)
    }

    @Test("a networkd that never installs the rules costs the bounded wait and a warning; the full files still go out")
    func bounded() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let networkd = RecordingNetworkd(), kernel = AddressKernel([]), clock = TestClock()
        var request = try Self.request(root: root)
        request.stagingLimit = .seconds(2)
        let report = try apply(request, effects: SystemEffects(networkd: networkd, kernel: kernel, clock: clock))
        #expect(networkd.reloads == 2 && Self.fileText(root: root).contains("Address=10.0.2.21/32"))
        #expect(clock.now() >= .seconds(2) && clock.now() < .seconds(3))
        #expect(report.warnings.count == 1 && report.warnings[0].hasPrefix("networkd had not installed rule 10000: from 10.0.1.10/32")
                && report.warnings[0].contains("rule 10001: from 10.0.2.21/32 lookup 10001 suppress_prefixlength 0"),
                "\(report.warnings)")
    }

    @Test("networkd not running: the full files are written at once (it reads them when it starts), nothing waited for")
    func notRunning() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let networkd = RecordingNetworkd(), clock = TestClock()
        networkd.running = false
        let report = try apply(Self.request(root: root), effects: SystemEffects(networkd: networkd, kernel: AddressKernel([]), clock: clock))
        #expect(clock.sleeps.isEmpty && report.reload == .notRunning && Self.fileText(root: root).contains("Address=10.0.2.21/32"))
    }

    @Test("the plan without withheld addresses keeps every rule and route")
    func withholdingKeepsRules() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let planned = try Self.plan(root: root)
        let mac = MACAddress("02:00:00:00:00:02")!
        let withheld = planned.withholding([mac: Set(planned.interfaces.first { $0.mac == mac }!.addresses)])
        #expect(withheld.interfaces.first { $0.mac == mac }!.addresses.isEmpty)
        #expect(withheld.interfaces.map(\.rules) == planned.interfaces.map(\.rules))
        #expect(withheld.interfaces.map(\.routes) == planned.interfaces.map(\.routes))
        #expect(withheld.interfaces.filter { $0.mac != mac } == planned.interfaces.filter { $0.mac != mac })
    }
}
