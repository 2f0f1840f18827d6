import EC2NetCore
import EC2NetTestSupport
import Foundation
import Testing

/// Live IMDS reads against the stub: exact outcomes for every fault, and the guarantee
/// that a failed read changes nothing on disk.
@Suite(.serialized)
struct LiveIMDSTests {
    @Test("live apply, then --cached, give byte-identical files; one token; only listed keys")
    func liveThenCached() throws {
        let stub = try StubIMDS(document: try ThreeENIs.document())
        let live = try TestSupport.temporaryDirectory(), cached = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: live); try? FileManager.default.removeItem(at: cached) }
        let run = try TestSupport.run(["apply", "--imds-endpoint", stub.endpoint, "--links", ThreeENIs.links, "--root", live.path, "--no-reload"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("imds: 35 requests, 0 retries"), "\(run.stdout)")
        let requests = try stub.requests()
        #expect(requests.filter { $0.method == "PUT" }.count == 1)
        #expect(requests.allSatisfy { $0.status == 200 }, "a request for a key the listing did not show: \(requests.filter { $0.status != 200 })")
        // Copy the cache into the second root and render from it alone.
        let cacheRelative = "var/lib/ec2-netgen/metadata.json"
        try FileManager.default.createDirectory(at: cached.appendingPathComponent("var/lib/ec2-netgen"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: live.appendingPathComponent(cacheRelative), to: cached.appendingPathComponent(cacheRelative))
        let fromCache = try TestSupport.run(["apply", "--cached", "--links", ThreeENIs.links, "--root", cached.path, "--no-reload"])
        #expect(fromCache.status == 0, "\(fromCache.stderr)")
        #expect(try TestSupport.snapshot(live.appendingPathComponent("run/systemd/network"))
            == TestSupport.snapshot(cached.appendingPathComponent("run/systemd/network")))
        let mode = try FileManager.default.attributesOfItem(atPath: live.appendingPathComponent(cacheRelative).path)[.posixPermissions] as? Int
        #expect(mode == 0o644)
        // The fetched document is the example, canonicalised.
        let fetched = try TestSupport.run(["fetch", "--imds-endpoint", stub.endpoint])
        #expect(fetched.status == 0)
        let cacheText = try String(contentsOf: live.appendingPathComponent(cacheRelative), encoding: .utf8)
        #expect(fetched.stdout == cacheText)
        let tokens = try stub.issuedTokens()
        #expect(!tokens.isEmpty)
        for token in tokens {
            #expect(!cacheText.contains(token), "the cache holds the session token")
            #expect(!run.stdout.contains(token) && !run.stderr.contains(token), "the output shows the session token")
        }
    }

    /// Faults that retrying fixes: the run succeeds, with the retries counted.
    @Test("transient faults are retried and the apply succeeds", arguments: [
        (#"{"rules": [{"path": "local-ipv4s", "kind": "status", "status": 503, "count": 3}]}"#, 3),
        (#"{"rules": [{"path": "device-number", "kind": "status", "status": 429, "count": 2}]}"#, 2),
        (#"{"rules": [{"path": "macs/$", "kind": "close", "count": 1}]}"#, 1),
        (#"{"rules": [{"path": "api/token", "kind": "close", "count": 1}]}"#, 1),
        (#"{"rules": [{"path": "interface-id", "kind": "close_mid_body", "count": 1}]}"#, 1),
        (#"{"rules": [{"path": "macs/02:00:00:00:00:02/$", "kind": "truncated_chunked", "count": 1}]}"#, 1),
        (#"{"rules": [{"path": "api/token", "kind": "status", "status": 500, "count": 1}]}"#, 1),
        (#"{"rules": [{"path": "ipv6s", "kind": "delay", "seconds": 2.5, "count": 1}]}"#, 1),
    ])
    func transient(_ faults: String, _ retries: Int) throws {
        let stub = try StubIMDS(document: try ThreeENIs.document(), faults: faults)
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let run = try TestSupport.run(["apply", "--imds-endpoint", stub.endpoint, "--links", ThreeENIs.links, "--root", root.path, "--no-reload"])
        #expect(run.status == 0, "\(faults): \(run.stderr)")
        #expect(run.stdout.contains(", \(retries) retries"), "\(run.stdout)")
        #expect(try TestSupport.snapshot(root.appendingPathComponent("run/systemd/network")).count == 8)
    }

    @Test("a 401 mid-run fetches one new token and succeeds")
    func unauthorizedOnce() throws {
        let stub = try StubIMDS(document: try ThreeENIs.document(),
                                faults: #"{"rules": [{"path": "local-ipv4s", "kind": "status", "status": 401, "after": 1, "count": 1}]}"#)
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let run = try TestSupport.run(["apply", "--imds-endpoint", stub.endpoint, "--links", ThreeENIs.links, "--root", root.path, "--no-reload"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try stub.requests().filter { $0.method == "PUT" }.count == 2)
    }

    /// Faults that must fail the run: exit 1, a message naming what failed, and no file
    /// or cache changed.
    @Test("hard faults fail with exit 1 and change nothing", arguments: [
        (#"{"rules": [{"path": "local-ipv4s", "method": "GET", "kind": "status", "status": 401}]}"#, "refused the session token twice"),
        (#"{"rules": [{"path": "/latest/meta-data", "kind": "status", "status": 403}]}"#, "IMDS is disabled for this instance"),
        (#"{"rules": [{"path": "api/token", "kind": "status", "status": 403}]}"#, "IMDS is disabled for this instance"),
        (#"{"rules": [{"path": "02:00:00:00:00:02/ipv6s", "kind": "status", "status": 404}]}"#, "ipv6s answered 404"),
        (#"{"rules": [{"path": "vpc-ipv4-cidr-blocks", "kind": "status", "status": 503}]}"#, "still failing after"),
        (#"{"rules": [{"path": "local-ipv4s", "kind": "oversized"}]}"#, "body larger than"),
        (#"{"rules": [{"path": "02:00:00:00:00:02/local-ipv4s", "kind": "value", "body": "10.0.2.20\n[Network]\nDNS=8.8.8.8"}]}"#, "local-ipv4s"),
        (#"{"rules": [{"path": "macs/$", "kind": "value", "body": "02:00:00:00:00:01/\n../../user-data/"}]}"#, "not a MAC address"),
        (#"{"rules": [{"path": "local-ipv4s", "kind": "truncated_chunked"}]}"#, "still failing after"),
        // The MAC listing changes between two requests: a listed MAC is gone when read.
        (#"{"rules": [{"path": "macs/$", "kind": "value", "body": "02:00:00:00:00:01/\n02:00:00:00:00:09/"}]}"#, "02:00:00:00:00:09/ answered 404"),
        // Every answer slower than the 2 s read timeout.
        (#"{"rules": [{"path": "ipv6s", "kind": "delay", "seconds": 3}]}"#, "timed out"),
    ])
    func hard(_ faults: String, _ message: String) throws {
        let stub = try StubIMDS(document: try ThreeENIs.document())
        let root = try ThreeENIs.configuredRoot(stub: stub)
        defer { try? FileManager.default.removeItem(at: root) }
        // A different document, so a run that wrongly succeeded would change files.
        var text = try String(decoding: ThreeENIs.document(), as: UTF8.self)
        text = text.replacingOccurrences(of: "10.0.2.22", with: "10.0.2.23")
        try stub.setDocument(Data(text.utf8))
        try stub.setFaults(faults)
        let before = try TestSupport.configuration(root)
        let started = Date()
        let run = try TestSupport.run(["apply", "--imds-endpoint", stub.endpoint, "--imds-deadline", "2.5", "--links", ThreeENIs.links,
                                       "--root", root.path])
        #expect(run.status == 1, "\(faults): \(run.stdout) \(run.stderr)")
        #expect(run.stderr.contains(message), "\(run.stderr)")
        #expect(run.stderr.contains(stub.endpoint) || message == "local-ipv4s", "\(run.stderr)")
        #expect(try TestSupport.configuration(root) == before, "files or cache changed after a failed IMDS read")
        #expect(try String(contentsOf: root.appendingPathComponent("run/ec2-netgen/last-imds"), encoding: .utf8).hasPrefix("failed "))
        #expect(Date().timeIntervalSince(started) < 10)
    }

    @Test("an unreachable endpoint fails with exit 1 and changes nothing")
    func unreachable() throws {
        let stub = try StubIMDS(document: try ThreeENIs.document())
        let root = try ThreeENIs.configuredRoot(stub: stub)
        defer { try? FileManager.default.removeItem(at: root) }
        let before = try TestSupport.configuration(root)
        // Port 9 (discard) on loopback: nothing listens, connect is refused at once.
        let run = try TestSupport.run(["apply", "--imds-endpoint", "http://127.0.0.1:9", "--imds-deadline", "1", "--links", ThreeENIs.links,
                                       "--root", root.path])
        #expect(run.status == 1)
        #expect(run.stderr.contains("http://127.0.0.1:9/latest/api/token"), "\(run.stderr)")
        #expect(run.stderr.contains("refused"), "\(run.stderr)")
        #expect(try TestSupport.configuration(root) == before)
    }

    @Test("the stub refuses IMDSv1 (a GET without a token)")
    func imdsV1Refused() throws {
        let stub = try StubIMDS(document: try ThreeENIs.document())
        let connection = HTTPTestClient(port: stub.port)
        #expect(try connection.status(of: "/latest/meta-data/mac") == 401)
    }

    /// The stub must be no kinder than EC2 (captured answers: `Server: EC2ws`,
    /// `Connection: close`, the TTL header, an HTML 404 page), or the numbers measured
    /// against it describe a service EC2 does not offer.
    @Test("the stub behaves like EC2: closes after each answer, EC2's headers, HTML 404, a connection cap")
    func stubIsEC2Like() throws {
        let stub = try StubIMDS(document: try ThreeENIs.document())
        // A keep-alive request still gets one answer and a closed connection.
        func exchange(_ request: String) throws -> String {
            let handle = try FileHandle.connect(port: stub.port)
            handle.write(Data(request.utf8))
            return String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)  // returns only once the server closed
        }
        let token = try exchange("PUT /latest/api/token HTTP/1.1\r\nHost: x\r\nX-aws-ec2-metadata-token-ttl-seconds: 300\r\n\r\n")
        #expect(token.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(token)")
        for header in ["Connection: close\r\n", "Server: EC2ws\r\n", "X-Aws-Ec2-Metadata-Token-Ttl-Seconds: 300\r\n",
                       "Content-Type: text/plain\r\n"] {
            #expect(token.contains(header), "token answer lacks \(header): \(token)")
        }
        let value = try #require(token.components(separatedBy: "\r\n\r\n").last)
        let missing = try exchange("GET /latest/meta-data/nothing-here HTTP/1.1\r\nHost: x\r\nX-aws-ec2-metadata-token: \(value)\r\n\r\n")
        #expect(missing.hasPrefix("HTTP/1.1 404 Not Found\r\n"))
        #expect(missing.contains("Content-Type: text/html") && missing.contains("<title>404 - Not Found</title>"), "\(missing)")
        #expect(try exchange("PUT /latest/api/token HTTP/1.1\r\nHost: x\r\nX-aws-ec2-metadata-token-ttl-seconds: 0\r\n\r\n")
            .hasPrefix("HTTP/1.1 400 "))
        // Nine idle connections: eight are served, the ninth is closed at once.
        let idle = try (0..<8).map { _ in try FileHandle.connect(port: stub.port) }
        usleep(200_000)
        let ninth = try FileHandle.connect(port: stub.port)
        ninth.write(Data("GET /latest/meta-data/mac HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        // Foundation's readDataToEndOfFile does not return on a reset: read the socket directly.
        var byte: UInt8 = 0
        let got = read(ninth.fileDescriptor, &byte, 1)
        #expect(got <= 0, "a ninth simultaneous connection was served")
        withExtendedLifetime(idle) {}
    }

    @Test("endpoint settings: AWS_EC2_METADATA_DISABLED refuses, a bad mode is named")
    func environment() throws {
        let disabled = try TestSupport.run(["fetch"], environment: ["AWS_EC2_METADATA_DISABLED": "true"])
        #expect(disabled.status == 1)
        #expect(disabled.stderr.contains("AWS_EC2_METADATA_DISABLED"))
        let mode = try TestSupport.run(["fetch"], environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv5"])
        #expect(mode.status == 1)
        #expect(mode.stderr.contains("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: IPv5"))
        let stub = try StubIMDS(document: try ThreeENIs.document())
        let viaEnvironment = try TestSupport.run(["fetch"], environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": stub.endpoint])
        #expect(viaEnvironment.status == 0, "\(viaEnvironment.stderr)")
        let badFlag = try TestSupport.run(["fetch", "--imds-endpoint", "https://169.254.169.254"])
        // Bad usage, not a runtime failure: exit 2, naming the flag.
        #expect(badFlag.status == 2)
        #expect(badFlag.stderr.contains("--imds-endpoint: https://169.254.169.254 is not an http://"), "\(badFlag.stderr)")
    }

    @Test("an IPv6 literal endpoint ([::1], as [fd00:ec2::254] on Nitro) works end to end")
    func ipv6Endpoint() throws {
        let stub = try StubIMDS(document: try ThreeENIs.document(), host: "::1")
        #expect(stub.endpoint.hasPrefix("http://[::1]:"))
        let fetched = try TestSupport.run(["fetch", "--imds-endpoint", stub.endpoint])
        #expect(fetched.status == 0, "\(fetched.stderr)")
        #expect(fetched.stdout.contains("02:00:00:00:00:03"))
        #expect(fetched.stderr.contains("imds: 35 requests, 0 retries"), "\(fetched.stderr)")
    }

    @Test("[IMDS] Endpoint= in the configuration is used when no flag or variable names one")
    func configEndpoint() throws {
        let stub = try StubIMDS(document: try ThreeENIs.document())
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let config = root.appendingPathComponent("ec2-netgen.conf")
        try "[IMDS]\nEndpoint=\(stub.endpoint)\n".write(to: config, atomically: true, encoding: .utf8)
        let run = try TestSupport.run(["apply", "--config", config.path, "--links", ThreeENIs.links, "--root", root.path + "/r", "--no-reload"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains(stub.endpoint))
    }

    @Test("without --wait-for, a lagging ENI keeps its files exactly")
    func lagKeepsFiles() throws {
        let stub = try StubIMDS(document: try ThreeENIs.document())
        let root = try ThreeENIs.configuredRoot(stub: stub)
        defer { try? FileManager.default.removeItem(at: root) }
        let name = "run/systemd/network/05-ec2-netgen-020000000003.network"
        let before = try Data(contentsOf: root.appendingPathComponent(name))
        // Without a cache every ENI is read whole, device-number included (a refresh takes
        // it from the cache: it cannot change while the ENI stays attached).
        try FileManager.default.removeItem(at: root.appendingPathComponent("var/lib/ec2-netgen/metadata.json"))
        var text = try String(decoding: ThreeENIs.document(), as: UTF8.self)
        text = text.replacingOccurrences(of: #""device-number": "2""#, with: #""device-number": "0""#)
        try stub.setDocument(Data(text.utf8))
        let run = try TestSupport.run(["apply", "--imds-endpoint", stub.endpoint, "--links", ThreeENIs.links, "--root", root.path, "--no-reload"])
        #expect(run.status == 0)
        #expect(run.stdout.contains("kept"), "\(run.stdout)")
        #expect(run.stdout.contains("metadata incomplete"))
        #expect(try Data(contentsOf: root.appendingPathComponent(name)) == before)
    }
}
