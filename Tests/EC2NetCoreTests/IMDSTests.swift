import EC2NetOps
import EC2NetIO
import EC2NetHTTP
import EC2NetCore
import Foundation
import Testing

/// Live IMDS reads against the stub: exact outcomes for every fault, and the guarantee
/// that a failed read changes nothing on disk.
@Suite(.serialized)
struct IMDSTests {
    static let example = TestSupport.repository.appendingPathComponent("examples/three-enis")
    static let links = example.appendingPathComponent("links.json").path

    static func exampleDocument() throws -> Data { try Data(contentsOf: example.appendingPathComponent("metadata.json")) }

    /// A root already configured from the example (files + cache), as on a running instance.
    static func configuredRoot(stub: StubIMDS) throws -> URL {
        let root = try TestSupport.temporaryDirectory()
        let run = try TestSupport.run(["apply", "--imds-endpoint", stub.endpoint, "--links", links, "--root", root.path, "--no-reload"])
        #expect(run.status == 0, "\(run.stderr)")
        return root
    }

    @Test("live apply, then --cached, give byte-identical files; one token; only listed keys")
    func liveThenCached() throws {
        let stub = try StubIMDS(document: try Self.exampleDocument())
        let live = try TestSupport.temporaryDirectory(), cached = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: live); try? FileManager.default.removeItem(at: cached) }
        let run = try TestSupport.run(["apply", "--imds-endpoint", stub.endpoint, "--links", Self.links, "--root", live.path, "--no-reload"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("imds: 35 requests, 0 retries"), "\(run.stdout)")
        let requests = try stub.requests()
        #expect(requests.filter { $0.method == "PUT" }.count == 1)
        #expect(requests.allSatisfy { $0.status == 200 }, "a request for a key the listing did not show: \(requests.filter { $0.status != 200 })")
        // Copy the cache into the second root and render from it alone.
        let cacheRelative = "var/lib/ec2-netgen/metadata.json"
        try FileManager.default.createDirectory(at: cached.appendingPathComponent("var/lib/ec2-netgen"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: live.appendingPathComponent(cacheRelative), to: cached.appendingPathComponent(cacheRelative))
        let fromCache = try TestSupport.run(["apply", "--cached", "--links", Self.links, "--root", cached.path, "--no-reload"])
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
        let stub = try StubIMDS(document: try Self.exampleDocument(), faults: faults)
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let run = try TestSupport.run(["apply", "--imds-endpoint", stub.endpoint, "--links", Self.links, "--root", root.path, "--no-reload"])
        #expect(run.status == 0, "\(faults): \(run.stderr)")
        #expect(run.stdout.contains(", \(retries) retries"), "\(run.stdout)")
        #expect(try TestSupport.snapshot(root.appendingPathComponent("run/systemd/network")).count == 7)
    }

    @Test("a 401 mid-run fetches one new token and succeeds")
    func unauthorizedOnce() throws {
        let stub = try StubIMDS(document: try Self.exampleDocument(),
                                faults: #"{"rules": [{"path": "local-ipv4s", "kind": "status", "status": 401, "after": 1, "count": 1}]}"#)
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let run = try TestSupport.run(["apply", "--imds-endpoint", stub.endpoint, "--links", Self.links, "--root", root.path, "--no-reload"])
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
        let stub = try StubIMDS(document: try Self.exampleDocument())
        let root = try Self.configuredRoot(stub: stub)
        defer { try? FileManager.default.removeItem(at: root) }
        // A different document, so a run that wrongly succeeded would change files.
        var text = try String(decoding: Self.exampleDocument(), as: UTF8.self)
        text = text.replacingOccurrences(of: "10.0.2.22", with: "10.0.2.23")
        try stub.setDocument(Data(text.utf8))
        try stub.setFaults(faults)
        let before = try TestSupport.configuration(root)
        let started = Date()
        let run = try TestSupport.run(["apply", "--imds-endpoint", stub.endpoint, "--imds-deadline", "2.5", "--links", Self.links,
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
        let stub = try StubIMDS(document: try Self.exampleDocument())
        let root = try Self.configuredRoot(stub: stub)
        defer { try? FileManager.default.removeItem(at: root) }
        let before = try TestSupport.configuration(root)
        // Port 9 (discard) on loopback: nothing listens, connect is refused at once.
        let run = try TestSupport.run(["apply", "--imds-endpoint", "http://127.0.0.1:9", "--imds-deadline", "1", "--links", Self.links,
                                       "--root", root.path])
        #expect(run.status == 1)
        #expect(run.stderr.contains("http://127.0.0.1:9/latest/api/token"), "\(run.stderr)")
        #expect(run.stderr.contains("refused"), "\(run.stderr)")
        #expect(try TestSupport.configuration(root) == before)
    }

    @Test("the stub refuses IMDSv1 (a GET without a token)")
    func imdsV1Refused() throws {
        let stub = try StubIMDS(document: try Self.exampleDocument())
        let connection = HTTPTestClient(port: stub.port)
        #expect(try connection.status(of: "/latest/meta-data/mac") == 401)
    }

    /// The stub must be no kinder than EC2 (captured answers: `Server: EC2ws`,
    /// `Connection: close`, the TTL header, an HTML 404 page), or the numbers measured
    /// against it describe a service EC2 does not offer.
    @Test("the stub behaves like EC2: closes after each answer, EC2's headers, HTML 404, a connection cap")
    func stubIsEC2Like() throws {
        let stub = try StubIMDS(document: try Self.exampleDocument())
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
        let stub = try StubIMDS(document: try Self.exampleDocument())
        let viaEnvironment = try TestSupport.run(["fetch"], environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT": stub.endpoint])
        #expect(viaEnvironment.status == 0, "\(viaEnvironment.stderr)")
        let badFlag = try TestSupport.run(["fetch", "--imds-endpoint", "https://169.254.169.254"])
        // Bad usage, not a runtime failure: exit 2, naming the flag.
        #expect(badFlag.status == 2)
        #expect(badFlag.stderr.contains("--imds-endpoint: https://169.254.169.254 is not an http://"), "\(badFlag.stderr)")
    }

    @Test("an IPv6 literal endpoint ([::1], as [fd00:ec2::254] on Nitro) works end to end")
    func ipv6Endpoint() throws {
        let stub = try StubIMDS(document: try Self.exampleDocument(), host: "::1")
        #expect(stub.endpoint.hasPrefix("http://[::1]:"))
        let fetched = try TestSupport.run(["fetch", "--imds-endpoint", stub.endpoint])
        #expect(fetched.status == 0, "\(fetched.stderr)")
        #expect(fetched.stdout.contains("02:00:00:00:00:03"))
        #expect(fetched.stderr.contains("imds: 35 requests, 0 retries"), "\(fetched.stderr)")
    }

    @Test("[IMDS] Endpoint= in the configuration is used when no flag or variable names one")
    func configEndpoint() throws {
        let stub = try StubIMDS(document: try Self.exampleDocument())
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let config = root.appendingPathComponent("ec2-netgen.conf")
        try "[IMDS]\nEndpoint=\(stub.endpoint)\n".write(to: config, atomically: true, encoding: .utf8)
        let run = try TestSupport.run(["apply", "--config", config.path, "--links", Self.links, "--root", root.path + "/r", "--no-reload"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains(stub.endpoint))
    }

    @Test("--wait-for: a MAC that appears late with device-number 0 first is planned with its real table")
    func waitFor() throws {
        let text = try String(decoding: Self.exampleDocument(), as: UTF8.self)
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
        let links = try Link.parseList(Array(try Data(contentsOf: URL(fileURLWithPath: Self.links))), source: Self.links)
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
        var text = try String(decoding: Self.exampleDocument(), as: UTF8.self)
        text = text.replacingOccurrences(of: #""device-number": "2""#, with: #""device-number": "0""#)
        let stub = try StubIMDS(document: Data(text.utf8))
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let links = try Link.parseList(Array(try Data(contentsOf: URL(fileURLWithPath: Self.links))), source: Self.links)
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

    @Test("without --wait-for, a lagging ENI keeps its files exactly")
    func lagKeepsFiles() throws {
        let stub = try StubIMDS(document: try Self.exampleDocument())
        let root = try Self.configuredRoot(stub: stub)
        defer { try? FileManager.default.removeItem(at: root) }
        let name = "run/systemd/network/05-ec2-netgen-020000000003.network"
        let before = try Data(contentsOf: root.appendingPathComponent(name))
        // Without a cache every ENI is read whole, device-number included (a refresh takes
        // it from the cache: it cannot change while the ENI stays attached).
        try FileManager.default.removeItem(at: root.appendingPathComponent("var/lib/ec2-netgen/metadata.json"))
        var text = try String(decoding: Self.exampleDocument(), as: UTF8.self)
        text = text.replacingOccurrences(of: #""device-number": "2""#, with: #""device-number": "0""#)
        try stub.setDocument(Data(text.utf8))
        let run = try TestSupport.run(["apply", "--imds-endpoint", stub.endpoint, "--links", Self.links, "--root", root.path, "--no-reload"])
        #expect(run.status == 0)
        #expect(run.stdout.contains("kept"), "\(run.stdout)")
        #expect(run.stdout.contains("metadata incomplete"))
        #expect(try Data(contentsOf: root.appendingPathComponent(name)) == before)
    }
}

/// A raw HTTP GET over a socket, independent of the product's client, to check the stub.
struct HTTPTestClient {
    let port: Int

    func status(of path: String) throws -> Int {
        let handle = try FileHandle.connect(port: port)
        handle.write(Data("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8))
        let data = handle.readDataToEndOfFile()
        let line = String(decoding: data.prefix(32), as: UTF8.self)
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
    }
}

extension FileHandle {
    /// A TCP connection to 127.0.0.1:port.
    static func connect(port: Int) throws -> FileHandle {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw TestFailure("connect failed") }
        return FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }
}

/// `status` under a root: files are compared with what the cache renders to.
@Suite(.serialized)
struct StatusTests {
    @Test("status --root: in sync after apply (exit 0), a hand-edited file is named (exit 1), no cache is exit 1")
    func statusUnderRoot() throws {
        let stub = try StubIMDS(document: try IMDSTests.exampleDocument())
        let root = try IMDSTests.configuredRoot(stub: stub)
        defer { try? FileManager.default.removeItem(at: root) }
        let links = ["--links", IMDSTests.links]
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

/// Serialisation: a run waiting for the lock has not touched IMDS yet.
@Suite(.serialized)
struct LockTests {
    @Test("apply waits for the lock before any IMDS request, says so, then completes")
    func waitsBeforeIMDS() throws {
        let stub = try StubIMDS(document: try IMDSTests.exampleDocument())
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("run/ec2-netgen"), withIntermediateDirectories: true)
        let lockPath = root.appendingPathComponent("run/ec2-netgen/lock").path
        let fd = open(lockPath, O_RDWR | O_CREAT, 0o644)
        #expect(fd >= 0)
        #expect(flock(fd, LOCK_EX) == 0)
        let links = try Link.parseList(Array(try Data(contentsOf: URL(fileURLWithPath: IMDSTests.links))), source: IMDSTests.links)
        let client = IMDSClient(configuration: IMDSConfiguration(endpoint: try #require(HTTPEndpoint(url: stub.endpoint))))
        var request = ApplyRequest(source: .imds(client, attached: nil), root: root.path, links: links, options: PlanOptions())
        let waiting = DispatchSemaphore(value: 0), finished = DispatchSemaphore(value: 0)
        let told = Locked<String?>(nil), outcome = Locked<String?>(nil)
        request.whileWaitingForLock = { path in
            told.set(path)
            waiting.signal()
        }
        let shared = Locked(request)
        let run = Thread {
            do {
                _ = try apply(shared.get(), effects: .none)
                outcome.set("applied")
            } catch {
                outcome.set("\(error)")
            }
            finished.signal()
        }
        run.start()
        waiting.wait()
        #expect(told.get() == lockPath)
        #expect(try stub.requests().isEmpty, "apply talked to IMDS while waiting for the lock")
        #expect(outcome.get() == nil, "apply went on while the lock was held")
        flock(fd, LOCK_UN)
        close(fd)
        finished.wait()
        #expect(outcome.get() == "applied")
        #expect(try stub.requests().count == 35)
    }
}

/// A value shared with a thread.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func get() -> Value { lock.withLock { value } }
    func set(_ new: Value) { lock.withLock { value = new } }
}

/// Request economy: what a refresh and an attach read when the cache knows the ENIs.
@Suite(.serialized)
struct RequestEconomyTests {
    static let immutable = ["device-number", "network-card", "interface-id", "subnet-ipv4-cidr-block",
                            "subnet-ipv6-cidr-blocks", "vpc-id"]

    /// A stub and a root configured from the example; the cold apply's request count.
    static func configured() throws -> (StubIMDS, URL, Int) {
        let stub = try StubIMDS(document: try IMDSTests.exampleDocument())
        let root = try IMDSTests.configuredRoot(stub: stub)
        return (stub, root, try stub.requests().count)
    }

    /// The example with one text replaced, served; then an apply; the requests it made.
    static func refresh(_ stub: StubIMDS, _ root: URL, replacing old: String, with new: String) throws
        -> [(method: String, path: String, status: Int, fault: String?)] {
        try stub.clearLog()
        let text = String(decoding: try IMDSTests.exampleDocument(), as: UTF8.self).replacingOccurrences(of: old, with: new)
        try stub.setDocument(Data(text.utf8))
        let run = try TestSupport.run(["apply", "--imds-endpoint", stub.endpoint, "--links", IMDSTests.links, "--root", root.path, "--no-reload"])
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
        let stub = try StubIMDS(document: try IMDSTests.exampleDocument())
        let root = try IMDSTests.configuredRoot(stub: stub)
        defer { try? FileManager.default.removeItem(at: root) }
        try stub.clearLog()
        let run = try TestSupport.run(["apply", "--imds-endpoint", stub.endpoint, "--links", IMDSTests.links, "--root", root.path,
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
