import EC2NetCore
import EC2NetFS
import Foundation
import Testing
import EC2NetTestSupport

/// What an operator meets at the command line beyond the first run: unattended runs and
/// their warnings, error messages naming the culprit, `plan --diff`, `explain`, and the
/// documentation matching the binary.
@Suite(.serialized)
struct CommandLineTests {
    static let metadata = ThreeENIs.metadata
    static let links = ThreeENIs.links

    /// A root with the example applied offline and its cache in place, as after a boot.
    static func bootedRoot() throws -> URL {
        let root = try TestSupport.temporaryDirectory()
        let cache = root.appendingPathComponent("var/lib/ec2-netgen")
        try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: metadata, toPath: cache.appendingPathComponent("metadata.json").path)
        return root
    }

    @Test("a bad configuration line: the boot path logs file:line, ignores it and writes every file; by hand it is exit 2")
    func bootSurvivesBadLine() throws {
        let root = try Self.bootedRoot()
        defer { try? FileManager.default.removeItem(at: root) }
        let etc = root.appendingPathComponent("etc/ec2-netgen")
        try FileManager.default.createDirectory(at: etc, withIntermediateDirectories: true)
        try "[Defaults]\nMainTableDefaultRoute=maybe\nAddressesFromPrefixes=no\n"
            .write(to: etc.appendingPathComponent("ec2-netgen.conf"), atomically: true, encoding: .utf8)
        let boot = try TestSupport.run(["apply", "--cached", "--boot", "--links", Self.links, "--root", root.path])
        #expect(boot.status == 0, "\(boot.stderr)")
        #expect(boot.stderr.contains("ec2-netgen.conf:2: MainTableDefaultRoute=\"maybe\" is not a boolean"), "\(boot.stderr)")
        #expect(try TestSupport.snapshot(root.appendingPathComponent("run/systemd/network")).count == 8)
        let byHand = try TestSupport.run(["apply", "--cached", "--links", Self.links, "--root", root.path])
        #expect(byHand.status == 2 && byHand.stderr.contains("ec2-netgen.conf:2:"), "\(byHand.stderr)")
        let timer = try TestSupport.run(["apply", "--cached", "--unattended", "--links", Self.links, "--root", root.path])
        #expect(timer.status == 0, "\(timer.stderr)")
    }

    @Test("an IMDS outage fails a hand-run apply (exit 1) but not the timer's (--unattended: a warning, exit 0, files kept)")
    func unattendedIMDSOutage() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        // Nothing listens on port 9 of loopback: every connection is refused at once.
        let args = ["apply", "--imds-endpoint", "http://127.0.0.1:9", "--imds-deadline", "1", "--links", Self.links, "--root", root.path]
        let byHand = try TestSupport.run(args)
        #expect(byHand.status == 1, "\(byHand.stderr)")
        let timer = try TestSupport.run(args + ["--unattended"])
        #expect(timer.status == 0, "\(timer.stderr)")
        #expect(timer.stderr.contains("warning: ") && timer.stderr.contains("the files stay as they are"), "\(timer.stderr)")
    }

    @Test("apply --root never talks to the host's networkd (no connection to the system bus)")
    func rootTouchesNoBus() throws {
        let directory = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // A listening socket standing in for the system bus: any connection attempt shows.
        let path = directory.appendingPathComponent("bus").path
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in path.utf8.enumerated() where index < buffer.count - 1 { buffer[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0 && listen(fd, 4) == 0)
        let root = directory.appendingPathComponent("root")
        let run = try TestSupport.run(["apply", "--metadata", Self.metadata, "--links", Self.links, "--root", root.path],
                                      environment: ["DBUS_SYSTEM_BUS_ADDRESS": "unix:path=" + path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!run.stdout.contains("reloaded") && !run.stdout.contains("networkd is not running"), "\(run.stdout)")
        _ = fcntl(fd, F_SETFL, O_NONBLOCK)
        #expect(accept(fd, nil, nil) < 0, "apply --root connected to the system bus")
    }

    @Test("status after an offline apply checks against it instead of saying nothing was applied")
    func statusAfterOfflineApply() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(try TestSupport.run(["apply", "--metadata", Self.metadata, "--links", Self.links, "--root", root.path]).status == 0)
        let status = try TestSupport.run(["status", "--links", Self.links, "--root", root.path])
        #expect(status.status == 0, "\(status.stdout)")
        #expect(status.stderr.isEmpty)
        try FileManager.default.removeItem(at: root.appendingPathComponent("run/systemd/network/05-ec2-netgen-020000000003.network"))
        let broken = try TestSupport.run(["status", "--links", Self.links, "--root", root.path, "--json"])
        #expect(broken.status == 1)
        // No empty "ec2-netgen: " line on stderr when status reports through stdout.
        #expect(broken.stderr.isEmpty, "\(broken.stderr)")
        #expect(broken.stdout.contains("\"in-sync\": false") && broken.stdout.contains("020000000003.network is missing"))
        // One ENI at a time, by link name, MAC or ENI id: the healthy one is in sync.
        for name in ["ens6", "02:00:00:00:00:02", "eni-0a1b2c3d4e5f60002"] {
            let one = try TestSupport.run(["status", name, "--links", Self.links, "--root", root.path])
            #expect(one.status == 0 && one.stdout.contains("ens6") && !one.stdout.contains("ens7"), "\(name): \(one.stdout)")
        }
        let sick = try TestSupport.run(["status", "ens7", "--links", Self.links, "--root", root.path])
        #expect(sick.status == 1 && sick.stdout.contains("020000000003.network is missing"))
        let nobody = try TestSupport.run(["status", "ens9", "--links", Self.links, "--root", root.path])
        #expect(nobody.status == 1 && nobody.stdout.contains("no configured ENI is named \"ens9\""), "\(nobody.stdout)")
    }

    @Test("usage errors are exit 2 and say what is wrong", arguments: [
        (["fetch", "--imds-deadline", "-1"], "--imds-deadline must be more than 0 and at most 600 seconds"),
        (["apply", "--wait-for", "ens5", "--wait-timeout", "0"], "--wait-timeout must be more than 0 and at most 3600 seconds"),
        (["fetch", "--imds-endpoint", "http://metadata.internal"], "--imds-endpoint: http://metadata.internal is not an http://"),
    ])
    func usage(_ arguments: [String], _ message: String) throws {
        let run = try TestSupport.run(arguments)
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains(message), "\(run.stderr)")
    }

    @Test("a bad endpoint mode is named as such")
    func endpointMode() throws {
        let run = try TestSupport.run(["fetch"], environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv7"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: IPv7 is not IPv4 or IPv6"), "\(run.stderr)")
    }

    @Test("a JSON number where IMDS serves text is named as a number")
    func numberLeaf() throws {
        let document = try TestSupport.document(#"{"meta-data": {"mac": "02:00:00:00:00:01", "network": {"interfaces": {"macs": {"02:00:00:00:00:01": {"device-number": 0, "local-ipv4s": "10.0.1.10"}}}}}}"#)
        #expect(throws: InputError.notAString(path: "meta-data/network/interfaces/macs/02:00:00:00:00:01/device-number", found: "a JSON number (0)")) {
            try parse(document)
        }
    }

    @Test("links-file errors name the file and the entry from 1", arguments: [
        (#"[{"name": "ens5", "driver": "ena", "index": 2}]"#, "links.json: entry 1: mac is missing"),
        (#"[{"name": "ens5", "mac": "02:00:00:00:00:01", "driver": "ena", "index": 2}, {"name": "ens6", "mac": "zz", "index": 3}]"#,
         "links.json: entry 2: mac \"zz\" is not a MAC address"),
        (#"[{"name": "ens5", "mac": "02:00:00:00:00:01", "driver": "ena", "index": 2}, {"name": "ens6", "mac": "02:00:00:00:00:01", "driver": "ena", "index": 3}]"#,
         "links.json: entry 2: mac 02:00:00:00:00:01 is on two ENA-family links"),
        (#"[{"name": "ens5", "mac": "02:00:00:00:00:01", "index": "2"}]"#, "links.json: entry 1: index \"2\" is not a positive integer"),
    ])
    func linksErrors(_ text: String, _ message: String) throws {
        #expect(throws: (any Error).self) { try Link.parseList(Array(text.utf8), source: "links.json") }
        do {
            _ = try Link.parseList(Array(text.utf8), source: "links.json")
        } catch {
            #expect(error.description == message)
        }
    }

    @Test("plan --diff: nothing to change is exit 0 and silent; a change is a unified diff patch(1) applies, and exit 1")
    func planDiff() throws {
        let root = try TestSupport.temporaryDirectory(), after = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root); try? FileManager.default.removeItem(at: after) }
        #expect(try TestSupport.run(["apply", "--metadata", Self.metadata, "--links", Self.links, "--root", root.path]).status == 0)
        let same = try TestSupport.run(["plan", "--diff", "--root", root.path, "--metadata", Self.metadata, "--links", Self.links])
        #expect(same.status == 0 && same.stdout.isEmpty, "\(same.stdout)\(same.stderr)")
        // One more address on the second ENI; its new files rendered under a second root.
        let text = try String(contentsOfFile: Self.metadata, encoding: .utf8)
            .replacingOccurrences(of: #""10.0.2.22"]"#, with: #""10.0.2.22", "10.0.2.23"]"#)
        let changed = after.appendingPathComponent("metadata.json")
        try text.write(to: changed, atomically: true, encoding: .utf8)
        let run = try TestSupport.run(["plan", "--diff", "--root", root.path, "--metadata", changed.path, "--links", Self.links])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(try TestSupport.run(["apply", "--metadata", changed.path, "--links", Self.links, "--root", after.path]).status == 0)
        let name = "run/systemd/network/05-ec2-netgen-020000000002.network"
        // The diff is right when patch(1) turns today's file into the one apply would write.
        let copy = after.appendingPathComponent("old.network"), patchFile = after.appendingPathComponent("change.diff")
        try FileManager.default.copyItem(at: root.appendingPathComponent(name), to: copy)
        try run.stdout.write(to: patchFile, atomically: true, encoding: .utf8)
        let patch = Process()
        patch.executableURL = URL(fileURLWithPath: "/usr/bin/patch")
        patch.arguments = ["--quiet", copy.path, patchFile.path]
        try patch.run()
        patch.waitUntilExit()
        #expect(patch.terminationStatus == 0)
        #expect(try Data(contentsOf: copy) == Data(contentsOf: after.appendingPathComponent(name)), "\(run.stdout)")
        #expect(run.stdout.contains("+Address=10.0.2.23/32\n") && run.stdout.contains("\n@@ -"))
        // Filtered to one ENI: the unchanged one has no diff, the changed one the same.
        let other = try TestSupport.run(["plan", "ens7", "--diff", "--root", root.path, "--metadata", changed.path, "--links", Self.links])
        #expect(other.status == 0 && other.stdout.isEmpty, "\(other.stdout)")
        let mine = try TestSupport.run(["plan", "eni-0a1b2c3d4e5f60002", "--diff", "--root", root.path, "--metadata", changed.path,
                                        "--links", Self.links])
        #expect(mine.status == 1 && mine.stdout == run.stdout)
        // apply --diff prints the same change while making it.
        let applied = try TestSupport.run(["apply", "--diff", "--metadata", changed.path, "--links", Self.links, "--root", root.path])
        #expect(applied.status == 0 && applied.stdout.hasPrefix(run.stdout), "\(applied.stdout)")
        #expect(applied.stdout.contains("updated   ") && applied.stdout.contains("1 file(s) changed"))
        let files = try TestSupport.run(["plan", "02:00:00:00:00:03", "--metadata", Self.metadata, "--links", Self.links])
        #expect(files.stdout.contains("==> 05-ec2-netgen-020000000003.network <==")
            && !files.stdout.contains("020000000002") && files.stdout.contains("loopback"))
        #expect(run.stdout.hasPrefix("--- " + root.appendingPathComponent(name).path + "\n+++ "))
    }

    @Test("an [Interface] that matches no ENI is a warning, not an error")
    func unmatchedInterface() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let config = root.appendingPathComponent("x.conf")
        try "[Interface]\nName=ens99\nManaged=no\n".write(to: config, atomically: true, encoding: .utf8)
        let run = try TestSupport.run(["apply", "--metadata", Self.metadata, "--links", Self.links, "--config", config.path,
                                       "--root", root.appendingPathComponent("r").path])
        #expect(run.status == 0)
        #expect(run.stderr.contains("warning: [Interface] Name=ens99 matches no ENI of this instance"), "\(run.stderr)")
    }

    @Test("unified diff of a new and of a removed file, in diff -u's form")
    func newAndRemovedFiles() {
        #expect(UnifiedDiff.make(old: nil, new: "a\nb\n", oldName: "f", newName: "f") == "--- /dev/null\n+++ f\n@@ -0,0 +1,2 @@\n+a\n+b\n")
        #expect(UnifiedDiff.make(old: "a\n", new: nil, oldName: "f", newName: "f") == "--- f\n+++ /dev/null\n@@ -1 +0,0 @@\n-a\n")
        #expect(UnifiedDiff.make(old: "same\n", new: "same\n", oldName: "f", newName: "f").isEmpty)
    }

    @Test("explain: an address and an address in a delegated prefix, as golden text; an unknown address is exit 1",
          arguments: [("10.0.2.21", "10.0.2.21.txt"), ("2600:1f14:abc:d02:1::5", "2600-1f14-abc-d02-1--5.txt")])
    func explainGolden(_ address: String, _ golden: String) throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(try TestSupport.run(["apply", "--metadata", Self.metadata, "--links", Self.links, "--root", root.path]).status == 0)
        let run = try TestSupport.run(["explain", address, "--root", root.path, "--links", Self.links])
        let expected = try String(contentsOf: TestSupport.repository.appendingPathComponent("Tests/Golden/explain/" + golden),
                                  encoding: .utf8)
        #expect(run.status == 0 && run.stdout == expected, "\(run.stdout)")
        let unknown = try TestSupport.run(["explain", "10.9.9.9", "--root", root.path, "--links", Self.links])
        #expect(unknown.status == 1 && unknown.stdout.contains("belongs to no ENI"))
        #expect(try TestSupport.run(["explain", "not/an/address"]).status == 2)
        // An ENI by name: each of its addresses and prefixes in turn.
        let eni = try TestSupport.run(["explain", "ens6", "--root", root.path, "--links", Self.links])
        let single = try String(contentsOf: TestSupport.repository.appendingPathComponent("Tests/Golden/explain/10.0.2.21.txt"),
                                encoding: .utf8)
        #expect(eni.status == 0 && eni.stdout.contains(single), "\(eni.stdout)")
        #expect(eni.stdout.components(separatedBy: " of ENI eni-0a1b2c3d4e5f60002").count - 1 == 7)
    }

    @Test("explain: an IPv6 ENI says its VPC blocks wait for its router until one is learned, then lists them through it")
    func explainLearnedRouter() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(try TestSupport.run(["apply", "--metadata", Self.metadata, "--links", Self.links, "--root", root.path]).status == 0)
        let waiting = try TestSupport.run(["explain", "2600:1f14:abc:d02::20", "--root", root.path, "--links", Self.links])
        #expect(waiting.status == 0 && waiting.stdout.contains("No IPv6 router is learned for ens6 yet"), "\(waiting.stdout)")
        #expect(!waiting.stdout.contains("via fe80::"), "\(waiting.stdout)")
        try LearnedRouters(root: root.path).save([try #require(MACAddress("02:00:00:00:00:02")): try #require(IPv6Address("fe80::1"))])
        let learned = try TestSupport.run(["explain", "2600:1f14:abc:d02::20", "--root", root.path, "--links", Self.links])
        #expect(learned.status == 0 && !learned.stdout.contains("No IPv6 router is learned"), "\(learned.stdout)")
        #expect(learned.stdout.contains("2600:1f14:abc:d00::/56 via fe80::1"), "\(learned.stdout)")
    }

    /// What `--help` offers, the man page and README must name: an option nobody can find
    /// is as good as missing.
    @Test("the man page and README name every option and subcommand the binary has")
    func documentedOptions() throws {
        let man = try String(contentsOf: TestSupport.repository.appendingPathComponent("man/ec2-netgen.8"), encoding: .utf8)
            .replacingOccurrences(of: "\\-", with: "-")
        let readme = try String(contentsOf: TestSupport.repository.appendingPathComponent("README.md"), encoding: .utf8)
        for command in ["plan", "apply", "fetch", "status", "links", "explain"] {
            #expect(man.contains("ec2-netgen \(command)") && readme.contains("ec2-netgen \(command)"), "\(command) undocumented")
            let help = try TestSupport.run([command, "--help"])
            #expect(help.status == 0)
            let options = Set(help.stdout.split(whereSeparator: { " \n,=<>[]():.;".contains($0) })
                .filter { $0.hasPrefix("--") }.map(String.init)).subtracting(["--help", "--version"])
            #expect(!options.isEmpty || command == "fetch", "\(command) --help lists no option")
            for option in options.sorted() {
                #expect(man.contains(option), "man/ec2-netgen.8 does not name \(command) \(option)")
                #expect(readme.contains(option), "README.md does not name \(command) \(option)")
            }
        }
    }

    /// Every configuration example in the docs, exactly as printed, must be accepted.
    @Test("every ini block in README.md and docs/ parses as printed")
    func documentedConfiguration() throws {
        let files = ["README.md"] + (try FileManager.default.contentsOfDirectory(atPath: TestSupport.repository.appendingPathComponent("docs").path))
            .filter { $0.hasSuffix(".md") }.map { "docs/" + $0 }
        var blocks = 0
        for file in files {
            let text = try String(contentsOf: TestSupport.repository.appendingPathComponent(file), encoding: .utf8)
            var current: [String]?
            var indent = 0
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                let trimmed = line.drop { $0 == " " }
                if current == nil, trimmed.hasPrefix("```ini") {
                    current = []
                    indent = line.count - trimmed.count
                } else if current != nil, trimmed.hasPrefix("```") {
                    var options = PlanOptions()
                    let config = (current ?? []).joined(separator: "\n")
                    #expect(throws: Never.self, "\(file): \(config)") { try options.apply(configText: config, file: file) }
                    blocks += 1
                    current = nil
                } else if current != nil {
                    current?.append(String(line.dropFirst(min(indent, line.count - line.drop { $0 == " " }.count))))
                }
            }
        }
        #expect(blocks >= 2, "found \(blocks) ini blocks")
    }
}
