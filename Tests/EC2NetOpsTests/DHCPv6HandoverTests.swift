import EC2NetCore
import EC2NetFS
import EC2NetIO
import EC2NetOps
import EC2NetTestSupport
import Foundation
import Testing

/// The watch after the reload that takes an IPv6-only ENI over from the DHCP catch-all,
/// on a test clock: kept, repaired once, or named at the limit.
@Suite(.serialized)
struct DHCPv6HandoverTests {
    /// Golden case 06: ens6 (ifindex 3) is IPv6-only, so its file keeps DHCPv6 for DNS and
    /// declares 2600:1f14:abc:d02::20 and ::21 static.
    static func ipv6OnlyRequest(root: URL) throws -> ApplyRequest {
        let input = TestSupport.repository.appendingPathComponent("Tests/Golden/06-ipv6-only/input")
        let document = try MetadataDocument(bytes: Array(try Data(contentsOf: input.appendingPathComponent("metadata.json"))),
                                            source: "metadata.json")
        let links = try Link.parseList(Array(try Data(contentsOf: input.appendingPathComponent("links.json"))), source: "links.json")
        let request = ApplyRequest(source: .document(document, source: "metadata.json"), root: root.path, links: links, options: PlanOptions())
        return request
    }

    /// A kernel holding `addresses` and the rules and routes networkd installs for the
    /// request's files: an address the apply adds to ens6 is staged (AddressStaging.swift),
    /// and its rules are found at once.
    static func kernel(_ addresses: [Netlink.Address]) throws -> AddressKernel {
        let request = try ipv6OnlyRequest(root: URL(fileURLWithPath: "/nonexistent"))
        guard case .document(let document, _, _) = request.source else { throw TestFailure("not a document") }
        let kernel = AddressKernel(addresses)
        kernel.install(try plan(try parse(document), links: request.links, options: request.options))
        return kernel
    }

    static func ens6(_ address: String) -> Netlink.Address {
        Netlink.Address(address: IPAddress(address)!, prefixLength: 128, interfaceIndex: 3)
    }

    static let repairWarning = "networkd dropped 2600:1f14:abc:d02::20 from ens6 while taking the link over from the DHCP "
        + "catch-all (networkd 257 and 262 file it under the old DHCPv6 lease); asked it to reconfigure ens6"

    /// Applies the IPv6-only request on a networkd whose reconfigure puts `restoring` back
    /// and calls the link configured: exactly one reconfigure of ens6, and its warning.
    static func expectOneRepair(root: URL, networkd: RecordingNetworkd, kernel: AddressKernel,
                                restoring: [Netlink.Address]) throws {
        networkd.onReconfigure = { _ in
            kernel.addressList = restoring
            networkd.states[3] = "configured"
        }
        let report = try apply(ipv6OnlyRequest(root: root), effects: SystemEffects(networkd: networkd, kernel: kernel, clock: TestClock()))
        #expect(networkd.reconfigured == [3])
        #expect(report.warnings == [repairWarning])
    }

    @Test("the reload that takes an IPv6-only ENI over from the catch-all: apply waits until its addresses stay, reconfigures nothing")
    func handoverKept() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let request = try Self.ipv6OnlyRequest(root: root)
        let networkd = RecordingNetworkd(), kernel = try Self.kernel([Self.ens6("2600:1f14:abc:d02::20"), Self.ens6("2600:1f14:abc:d02::21")])
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
        // ::22 arrives: its rules first (a reload), then the address (another); the addresses
        // are read once, before anything changes, and never watched.
        #expect(second.sync.updated.count == 1 && networkd.reloads == 3 && kernel.dumps == dumps + 1, "\(second.sync)")
    }

    @Test("networkd drops the address during the hand-over (networkd 257): apply reconfigures that link once and says so")
    func handoverRepaired() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let networkd = RecordingNetworkd(), kernel = try Self.kernel([Self.ens6("2600:1f14:abc:d02::21")])
        networkd.onReconfigure = { _ in kernel.addressList.append(Self.ens6("2600:1f14:abc:d02::20")) }
        let report = try apply(Self.ipv6OnlyRequest(root: root), effects: SystemEffects(networkd: networkd, kernel: kernel, clock: TestClock()))
        #expect(networkd.reconfigured == [3])
        #expect(report.warnings == [Self.repairWarning])
    }

    @Test("networkd 262 drops the address and leaves the link configuring: once gone for the settle time, apply reconfigures it")
    func handoverRepairedWhileConfiguring() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let kept = Self.ens6("2600:1f14:abc:d02::21"), dropped = Self.ens6("2600:1f14:abc:d02::20")
        let networkd = RecordingNetworkd(), kernel = try Self.kernel([kept, dropped])
        networkd.states[3] = "configuring"
        // Dump 1 is the look before the reload, dump 2 the first after it.
        kernel.onDump = { dump in if dump == 3 { kernel.addressList = [kept] } }
        try Self.expectOneRepair(root: root, networkd: networkd, kernel: kernel, restoring: [kept, dropped])
    }

    @Test("networkd 262 removes the catch-all's address before apply first looks after the reload: still a drop, repaired once")
    func handoverDroppedBeforeFirstLook() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let kept = Self.ens6("2600:1f14:abc:d02::21"), dropped = Self.ens6("2600:1f14:abc:d02::20")
        // The catch-all's DHCPv6 lease put ::20 on the link; the reload's reconfigure takes it away.
        let networkd = RecordingNetworkd(), kernel = try Self.kernel([dropped])
        networkd.onReload = {
            kernel.addressList = [kept]
            networkd.states[3] = "configuring"
        }
        try Self.expectOneRepair(root: root, networkd: networkd, kernel: kernel, restoring: [kept, dropped])
    }

    @Test("a link still configuring is waited for, not reconfigured; an address still missing at the limit is named")
    func handoverLimit() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let networkd = RecordingNetworkd(), kernel = try Self.kernel([Self.ens6("2600:1f14:abc:d02::21")])
        networkd.states[3] = "configuring"
        let report = try apply(Self.ipv6OnlyRequest(root: root), effects: SystemEffects(networkd: networkd, kernel: kernel, clock: TestClock()))
        #expect(networkd.reconfigured.isEmpty)
        #expect(report.warnings == ["2600:1f14:abc:d02::20 still not on ens6 8.0 seconds after the reload; "
            + "`networkctl reconfigure ens6` applies it again"])
    }
}
