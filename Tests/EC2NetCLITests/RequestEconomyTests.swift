import EC2NetCore
import EC2NetTestSupport
import Foundation
import Testing

/// Request economy: what a refresh and an attach read when the cache knows the ENIs.
@Suite(.serialized)
struct RequestEconomyTests {
    static let immutable = ["device-number", "network-card", "interface-id", "subnet-ipv4-cidr-block",
                            "subnet-ipv6-cidr-blocks", "vpc-id"]

    /// A stub and a root configured from the example; the cold apply's request count.
    static func configured() throws -> (StubIMDS, URL, Int) {
        let stub = try StubIMDS(document: try ThreeENIs.document())
        let root = try ThreeENIs.configuredRoot(stub: stub)
        return (stub, root, try stub.requests().count)
    }

    /// The example with one text replaced, served; then an apply; the requests it made.
    static func refresh(_ stub: StubIMDS, _ root: URL, replacing old: String, with new: String) throws
        -> [(method: String, path: String, status: Int, fault: String?)] {
        try stub.clearLog()
        let text = String(decoding: try ThreeENIs.document(), as: UTF8.self).replacingOccurrences(of: old, with: new)
        try stub.setDocument(Data(text.utf8))
        let run = try TestSupport.run(["apply", "--imds-endpoint", stub.endpoint, "--links", ThreeENIs.links, "--root", root.path, "--no-reload"])
        #expect(run.status == 0, "\(run.stderr)")
        return try stub.requests()
    }

    @Test("a refresh reads no immutable key, at most half a cold read's requests, and still sees a new address")
    func refresh() throws {
        let (stub, root, cold) = try Self.configured()
        defer { try? FileManager.default.removeItem(at: root) }
        let requests = try Self.refresh(stub, root, replacing: #""10.0.2.22"]"#, with: #""10.0.2.22", "10.0.2.23"]"#)
        let immutableReads = requests.filter { request in Self.immutable.contains { request.path.hasSuffix("/" + $0) } }
        #expect(immutableReads.isEmpty, "refresh read \(immutableReads.map(\.path))")
        #expect(requests.count * 2 <= cold, "refresh \(requests.count) requests, cold \(cold)")
        #expect(requests.allSatisfy { $0.status == 200 }, "\(requests.filter { $0.status != 200 })")
        // Two ENIs share the VPC: its blocks are read once.
        #expect(requests.filter { $0.path.hasSuffix("/vpc-ipv4-cidr-blocks") }.count == 1)
        let file = try String(contentsOf: root.appendingPathComponent("run/systemd/network/05-ec2-netgen-020000000002.network"), encoding: .utf8)
        #expect(file.contains("Address=10.0.2.23/32"), "\(file)")
    }

    @Test("a cache of another instance (an image) is not trusted: everything is read whole")
    func otherInstance() throws {
        let (stub, root, cold) = try Self.configured()
        defer { try? FileManager.default.removeItem(at: root) }
        let requests = try Self.refresh(stub, root, replacing: "i-0123456789abcdef0", with: "i-0fedcba9876543210")
        #expect(requests.count == cold, "\(requests.count) requests after an instance change, cold \(cold)")
        #expect(requests.contains { $0.path.hasSuffix("/device-number") })
    }

    @Test("the attach path reads its own ENI whole and no other ENI")
    func attach() throws {
        let stub = try StubIMDS(document: try ThreeENIs.document())
        let root = try ThreeENIs.configuredRoot(stub: stub)
        defer { try? FileManager.default.removeItem(at: root) }
        try stub.clearLog()
        let run = try TestSupport.run(["apply", "--imds-endpoint", stub.endpoint, "--links", ThreeENIs.links, "--root", root.path,
                                       "--no-reload", "--wait-for", "ens7"])
        #expect(run.status == 0, "\(run.stderr)")
        let perENI = try stub.requests().filter { $0.path.contains("/macs/02:") && $0.method == "GET" }
        // The wait reads the primary's listing to check for network-card; the fetch reads
        // only ens7's ENI (02:00:00:00:00:03).
        let fetched = perENI.filter { !$0.path.hasSuffix("/") && !$0.path.hasSuffix("/device-number") }
        #expect(fetched.allSatisfy { $0.path.contains("02:00:00:00:00:03/") }, "\(fetched.map(\.path))")
        #expect(fetched.contains { $0.path.hasSuffix("02:00:00:00:00:03/interface-id") })
    }
}
