import Foundation

/// The stub IMDS (`Tests/stub-imds/stub_imds.py`) run as its own process on 127.0.0.1
/// with an ephemeral port, killed by PID when the test ends.
/// `@unchecked Sendable`: tests hand it to one helper thread that only swaps files.
public final class StubIMDS: @unchecked Sendable {
    public let directory: URL
    public let process = Process()
    public let port: Int
    public var documentURL: URL { directory.appendingPathComponent("document.json") }
    public var faultsURL: URL { directory.appendingPathComponent("faults.json") }
    public var logURL: URL { directory.appendingPathComponent("requests.jsonl") }
    public let host: String
    public var endpoint: String { host.contains(":") ? "http://[\(host)]:\(port)" : "http://\(host):\(port)" }

    public init(document: Data, faults: String = "{}", host: String = "127.0.0.1") throws {
        self.host = host
        directory = try TestSupport.temporaryDirectory()
        try document.write(to: directory.appendingPathComponent("document.json"))
        try faults.write(to: directory.appendingPathComponent("faults.json"), atomically: true, encoding: .utf8)
        let portFile = directory.appendingPathComponent("port")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", TestSupport.repository.appendingPathComponent("Tests/stub-imds/stub_imds.py").path,
                             "--document", directory.appendingPathComponent("document.json").path,
                             "--faults", directory.appendingPathComponent("faults.json").path,
                             "--port-file", portFile.path, "--log", directory.appendingPathComponent("requests.jsonl").path,
                             "--listen", host.contains(":") ? "[\(host)]:0" : "\(host):0"]
        try process.run()
        var found: Int?
        for _ in 0..<200 {
            if let text = try? String(contentsOf: portFile, encoding: .utf8), let value = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                found = value
                break
            }
            usleep(25_000)
        }
        guard let found else {
            // SIGKILL and wait, as deinit does: a stub left running would hold the test
            // runner's output open after the tests end.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw TestFailure("stub IMDS did not start")
        }
        port = found
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// Replaces the fault script (the stub re-reads it on the next request).
    public func setFaults(_ json: String) throws {
        try Data(json.utf8).write(to: faultsURL, options: .atomic)
    }

    /// Replaces the document.
    public func setDocument(_ data: Data) throws {
        try data.write(to: documentURL, options: .atomic)
    }

    /// Logged requests: (method, path, status, fault).
    public func requests() throws -> [(method: String, path: String, status: Int, fault: String?)] {
        guard let text = try? String(contentsOf: logURL, encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] ?? [:]
            return (object["method"] as? String ?? "", object["path"] as? String ?? "", object["status"] as? Int ?? -1,
                    object["fault"] as? String)
        }
    }

    /// Every session token the stub issued, for leak checks by value.
    public func issuedTokens() throws -> [String] {
        guard let text = try? String(contentsOf: logURL, encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").compactMap { line in
            (try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["issued-token"] as? String
        }
    }

    /// Empties the request log.
    public func clearLog() throws { try Data().write(to: logURL) }
}
