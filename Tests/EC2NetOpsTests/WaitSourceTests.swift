import EC2NetCore
import EC2NetHTTP
import EC2NetIO
import EC2NetOps
import EC2NetTestSupport
import Foundation
import Testing

/// `--wait-for`'s source: the real client polling the stub IMDS on a test clock, so the
/// backoff and the limit are checked exactly and take no time.
@Suite(.serialized)
struct WaitSourceTests {
    @Test("--wait-for: a MAC that appears late with device-number 0 first is planned with its real table")
    func waitFor() throws {
        let text = try String(decoding: ThreeENIs.document(), as: UTF8.self)
        // Without the third ENI at first.
        var object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        var metaData = object["meta-data"] as! [String: Any]
        var network = metaData["network"] as! [String: Any]
        var interfaces = network["interfaces"] as! [String: Any]
        var macs = interfaces["macs"] as! [String: Any]
        let third = macs.removeValue(forKey: "02:00:00:00:00:03") as! [String: Any]
        func document(with entry: [String: Any]?) throws -> Data {
            var m = macs
            if let entry { m["02:00:00:00:00:03"] = entry }
            interfaces["macs"] = m; network["interfaces"] = interfaces; metaData["network"] = network; object["meta-data"] = metaData
            return try JSONSerialization.data(withJSONObject: object)
        }
        let stub = try StubIMDS(document: try document(with: nil))
        var lagging = third
        lagging["device-number"] = "0"
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let laggingData = try document(with: lagging), completeData = try document(with: third)
        // IMDS lists the ENI lagging after the first pause, whole after the third.
        let clock = TestClock()
        clock.onSleep = { pauses in
            if pauses == 1 { try? stub.setDocument(laggingData) }
            if pauses == 3 { try? stub.setDocument(completeData) }
        }
        let links = try Link.parseList(Array(try Data(contentsOf: URL(fileURLWithPath: ThreeENIs.links))), source: ThreeENIs.links)
        let ens7 = try #require(links.first { $0.name == "ens7" })
        let client = IMDSClient(configuration: IMDSConfiguration(endpoint: try #require(HTTPEndpoint(url: stub.endpoint))))
        let (source, warning) = try waitSource(client, link: ens7, timeoutSeconds: 60, root: root.path, clock: clock)
        #expect(warning == nil)
        // Backoff from 100 ms doubling: polled at 0, 0.1, 0.3 and 0.7 s.
        #expect(clock.sleeps == [.milliseconds(100), .milliseconds(200), .milliseconds(400)], "\(clock.sleeps)")
        _ = try apply(ApplyRequest(source: source, root: root.path, links: links, options: PlanOptions()), effects: .none)
        let network3 = try String(contentsOf: root.appendingPathComponent("run/systemd/network/05-ec2-netgen-020000000003.network"), encoding: .utf8)
        #expect(network3.contains("Table=10002"))
        #expect(!network3.contains("Table=10000"))
    }

    @Test("--wait-for gives up after --wait-timeout, naming what is missing; nothing is written")
    func waitTimeout() throws {
        var text = try String(decoding: ThreeENIs.document(), as: UTF8.self)
        text = text.replacingOccurrences(of: #""device-number": "2""#, with: #""device-number": "0""#)
        let stub = try StubIMDS(document: Data(text.utf8))
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let links = try Link.parseList(Array(try Data(contentsOf: URL(fileURLWithPath: ThreeENIs.links))), source: ThreeENIs.links)
        let ens7 = try #require(links.first { $0.name == "ens7" })
        let client = IMDSClient(configuration: IMDSConfiguration(endpoint: try #require(HTTPEndpoint(url: stub.endpoint))))
        let clock = TestClock()
        do {
            _ = try waitSource(client, link: ens7, timeoutSeconds: 5, root: root.path, clock: clock)
            Issue.record("the wait did not time out")
        } catch let error as IOError {
            guard case .waitTimedOut(let link, _, let seconds, let reason) = error else { throw error }
            #expect(link == "ens7" && reason == "device-number 0 on a secondary ENI", "\(error)")
            // 0.1 + 0.2 + 0.4 + 0.8 + 1 + 1 + 1 s of pauses, and no pause past the limit.
            #expect(seconds == 4.5 && clock.now() == .milliseconds(4500), "\(seconds)")
        }
        #expect(try TestSupport.snapshot(root.appendingPathComponent("run/systemd/network")).isEmpty)
    }
}
