import EC2NetCore
import EC2NetTestSupport
import Foundation
import Testing

/// `status` under a root: files are compared with what the cache renders to.
@Suite(.serialized)
struct StatusCommandTests {
    @Test("status --root: in sync after apply (exit 0), a hand-edited file is named (exit 1), no cache is exit 1")
    func statusUnderRoot() throws {
        let stub = try StubIMDS(document: try ThreeENIs.document())
        let root = try ThreeENIs.configuredRoot(stub: stub)
        defer { try? FileManager.default.removeItem(at: root) }
        let links = ["--links", ThreeENIs.links]
        let clean = try TestSupport.run(["status", "--root", root.path, "--json"] + links)
        #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")
        #expect(clean.stdout.contains("\"in-sync\": true"))
        #expect(clean.stdout.contains("\"elastic-ip\": \"203.0.113.25\""))
        let file = root.appendingPathComponent("run/systemd/network/05-ec2-netgen-020000000002.network")
        try "edited by hand\n".write(to: file, atomically: true, encoding: .utf8)
        let drifted = try TestSupport.run(["status", "--root", root.path] + links)
        #expect(drifted.status == 1)
        #expect(drifted.stdout.contains("05-ec2-netgen-020000000002.network is not what ec2-netgen wrote"), "\(drifted.stdout)")
        let empty = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: empty) }
        let none = try TestSupport.run(["status", "--root", empty.path] + links)
        #expect(none.status == 1)
        #expect(none.stdout.contains("ec2-netgen has not applied here yet"), "\(none.stdout)")
    }
}
