import EC2NetCore
import Foundation
import Testing
import EC2NetTestSupport

/// The CLI contract of docs/design.md: output, idempotence, exit codes.
struct CLITests {
    static let example = TestSupport.repository.appendingPathComponent("examples/three-enis")

    @Test("apply twice: the second run changes nothing and says so")
    func applyIdempotent() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let arguments = ["apply", "--metadata", Self.example.path + "/metadata.json", "--links", Self.example.path + "/links.json",
                         "--root", root.path, "--no-reload"]
        let first = try TestSupport.run(arguments)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("created"))
        let files = try TestSupport.snapshot(root.appendingPathComponent("run/systemd/network"))
        #expect(files.count == 8)  // 3 ENIs' .network and .link, the loopback's, the catch-all holding new links back
        let second = try TestSupport.run(arguments)
        #expect(second.status == 0)
        #expect(second.stdout.contains("no change: 8 files up to date"))
        #expect(try TestSupport.snapshot(root.appendingPathComponent("run/systemd/network")) == files)
    }

    @Test("plan prints exactly what apply writes")
    func planMatchesApply() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let inputs = ["--metadata", Self.example.path + "/metadata.json", "--links", Self.example.path + "/links.json"]
        let planned = try TestSupport.run(["plan"] + inputs)
        #expect(planned.status == 0)
        _ = try TestSupport.run(["apply"] + inputs + ["--root", root.path, "--no-reload"])
        let files = try TestSupport.snapshot(root.appendingPathComponent("run/systemd/network"))
        let rebuilt = files.keys.sorted().map { "==> \($0.dropFirst()) <==\n" + String(decoding: files[$0]!, as: UTF8.self) }
            .joined(separator: "\n")
        #expect(planned.stdout == rebuilt)
        let json = try TestSupport.run(["plan", "--json"] + inputs)
        #expect(json.status == 0)
        #expect(json.stdout.contains("\"table\": 10001"))
    }

    /// One bad input each: exit 2, the culprit named, nothing written.
    @Test("invalid inputs exit 2, name the culprit, write nothing", arguments: [
        (#""local-ipv4s": "10.0.1.10\n10.0.1.11""#, #""local-ipv4s": "10.0.1.10\n10.0.1.300""#, "local-ipv4s"),
        (#""02:00:00:00:00:03": {"#, #""02:00:00:00:00:03/..": {"#, "02:00:00:00:00:03/.."),
        (#""interface-id": "eni-0a1b2c3d4e5f60003""#, #""interface-id": "eni-0a1b2c3d4e5f60003\n[Network]\nDNS=8.8.8.8""#, "interface-id"),
        (#""device-number": "2""#, #""device-number": "1""#, "device-number 1"),
        (#""device-number": "2","#, "", "device-number"),
    ])
    func invalid(_ original: String, _ replacement: String, _ culprit: String) throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let text = try String(contentsOf: Self.example.appendingPathComponent("metadata.json"), encoding: .utf8)
        #expect(text.contains(original), "fixture changed: \(original)")
        let broken = root.appendingPathComponent("metadata.json")
        try text.replacingOccurrences(of: original, with: replacement).write(to: broken, atomically: true, encoding: .utf8)
        let run = try TestSupport.run(["apply", "--metadata", broken.path, "--links", Self.example.path + "/links.json",
                                       "--root", root.path + "/r", "--no-reload"])
        #expect(run.status == 2, "\(run.stdout)\(run.stderr)")
        #expect(run.stderr.contains(culprit), "\(run.stderr)")
        #expect(try TestSupport.snapshot(root.appendingPathComponent("r/run/systemd/network")).isEmpty)
    }

    @Test("usage errors exit 2", arguments: [["apply", "--bogus"], ["plan", "--metadata"], ["apply", "--boot"], ["frobnicate"]])
    func usage(_ arguments: [String]) throws {
        let run = try TestSupport.run(arguments)
        #expect(run.status == 2, "\(arguments): \(run.stderr)")
        #expect(!run.stderr.isEmpty)
    }

    @Test("missing input file exits 2 naming it")
    func missingFile() throws {
        let run = try TestSupport.run(["plan", "--metadata", "/nonexistent/metadata.json", "--links", Self.example.path + "/links.json"])
        #expect(run.status == 2)
        #expect(run.stderr.contains("/nonexistent/metadata.json"))
    }

    @Test("a config error names file and line")
    func badConfig() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let config = root.appendingPathComponent("bad.conf")
        try "[Defaults]\n\nMainTableDefaultRoute=sometimes\n".write(to: config, atomically: true, encoding: .utf8)
        let run = try TestSupport.run(["plan", "--metadata", Self.example.path + "/metadata.json",
                                       "--links", Self.example.path + "/links.json", "--config", config.path])
        #expect(run.status == 2)
        #expect(run.stderr.contains("bad.conf:3:"))
    }
}
