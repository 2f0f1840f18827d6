import Foundation
import Testing
import EC2NetTestSupport

/// The generator, run as systemd runs it: three output directories, fake /proc/cmdline
/// and DMI under EC2_NETGEN_GENERATOR_ROOT. Exact file sets, nothing written elsewhere,
/// exit 0 and silence.
struct GeneratorTests {
    static var binary: URL { TestSupport.executable.deletingLastPathComponent().appendingPathComponent("ec2-netgen-generator") }

    /// Runs the generator over a fresh tree; returns the listing (path → symlink target or
    /// "dir"/"file") of the whole tree afterwards, and of the fake inputs before.
    func generate(cmdline: String, dmi: [String: String], config: String? = nil, systemdIMDS: Bool = false) throws -> (after: [String: String], before: [String: String], status: Int32, stderr: String) {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let fm = FileManager.default
        if systemdIMDS {
            let daemon = root.appendingPathComponent("usr/lib/systemd/systemd-imdsd")
            try fm.createDirectory(at: daemon.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data().write(to: daemon)
            try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: daemon.path)
        }
        try fm.createDirectory(at: root.appendingPathComponent("proc"), withIntermediateDirectories: true)
        try cmdline.write(to: root.appendingPathComponent("proc/cmdline"), atomically: true, encoding: .utf8)
        try fm.createDirectory(at: root.appendingPathComponent("sys/class/dmi/id"), withIntermediateDirectories: true)
        for (name, value) in dmi {
            try (value + "\n").write(to: root.appendingPathComponent("sys/class/dmi/id/" + name), atomically: true, encoding: .utf8)
        }
        if let config {
            try fm.createDirectory(at: root.appendingPathComponent("etc/ec2-netgen"), withIntermediateDirectories: true)
            try config.write(to: root.appendingPathComponent("etc/ec2-netgen/ec2-netgen.conf"), atomically: true, encoding: .utf8)
        }
        for dir in ["out/normal", "out/early", "out/late"] {
            try fm.createDirectory(at: root.appendingPathComponent(dir), withIntermediateDirectories: true)
        }
        let before = try listing(root)
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = ["normal", "early", "late"].map { root.appendingPathComponent("out/" + $0).path }
        process.environment = ["EC2_NETGEN_GENERATOR_ROOT": root.path]
        let err = Pipe(), out = Pipe()
        process.standardError = err
        process.standardOutput = out
        try process.run()
        process.waitUntilExit()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile() + out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (try listing(root), before, process.terminationStatus, stderr)
    }

    func listing(_ root: URL) throws -> [String: String] {
        var result: [String: String] = [:]
        let fm = FileManager.default
        guard let walker = fm.enumerator(atPath: root.path) else { return result }
        while let relative = walker.nextObject() as? String {
            let path = root.appendingPathComponent(relative).path
            if let target = try? fm.destinationOfSymbolicLink(atPath: path) {
                result[relative] = "-> " + target
            } else {
                var isDirectory: ObjCBool = false
                _ = fm.fileExists(atPath: path, isDirectory: &isDirectory)
                // Drop-ins are recorded with their text, so tests check what they say.
                if relative.hasSuffix(".conf"), let text = try? String(contentsOfFile: path, encoding: .utf8) {
                    result[relative] = "file: " + text
                } else {
                    result[relative] = isDirectory.boolValue ? "dir" : "file"
                }
            }
        }
        return result
    }

    func added(_ run: (after: [String: String], before: [String: String], status: Int32, stderr: String)) -> [String: String] {
        run.after.filter { run.before[$0.key] == nil }
    }

    @Test("EC2 (Nitro DMI): the boot services and the timer are wired, nothing else")
    func ec2() throws {
        let run = try generate(cmdline: "console=ttyS0 root=/dev/nvme0n1p1", dmi: ["sys_vendor": "Amazon EC2"])
        #expect(run.status == 0)
        #expect(run.stderr.isEmpty)
        #expect(added(run) == [
            "out/normal/sysinit.target.wants": "dir",
            "out/normal/sysinit.target.wants/ec2-netgen-boot.service": "-> /usr/lib/systemd/system/ec2-netgen-boot.service",
            "out/normal/sysinit.target.wants/ec2-netgen-cloud-init.service": "-> /usr/lib/systemd/system/ec2-netgen-cloud-init.service",
            "out/normal/timers.target.wants": "dir",
            "out/normal/timers.target.wants/ec2-netgen-refresh.timer": "-> /usr/lib/systemd/system/ec2-netgen-refresh.timer",
        ])
        #expect(run.after.filter { run.before[$0.key] != nil } == run.before)
    }

    @Test("EC2 (Xen DMI) is recognised too")
    func xen() throws {
        let run = try generate(cmdline: "", dmi: ["sys_vendor": "Xen", "bios_version": "4.11.amazon"])
        #expect(run.status == 0)
        #expect(added(run).keys.contains("out/normal/sysinit.target.wants/ec2-netgen-boot.service"))
    }

    static let masked: [String: String] = [
        "out/early/ec2-netgen-boot.service": "-> /dev/null",
        "out/early/ec2-netgen-cloud-init.service": "-> /dev/null",
        "out/early/ec2-netgen@.service": "-> /dev/null",
        "out/early/ec2-netgen-refresh.service": "-> /dev/null",
        "out/early/ec2-netgen-refresh.timer": "-> /dev/null",
    ]

    @Test("not EC2: every unit is masked in the early directory")
    func notEC2() throws {
        let run = try generate(cmdline: "quiet", dmi: ["sys_vendor": "QEMU"])
        #expect(run.status == 0)
        #expect(run.stderr.isEmpty)
        #expect(added(run) == Self.masked)
    }

    @Test("ec2-netgen=off masks on EC2 too; the last switch wins")
    func off() throws {
        let run = try generate(cmdline: "ec2-netgen=on quiet ec2-netgen=off", dmi: ["sys_vendor": "Amazon EC2"])
        #expect(run.status == 0)
        #expect(added(run) == Self.masked)
        let on = try generate(cmdline: "ec2-netgen=off ec2-netgen=on", dmi: ["sys_vendor": "QEMU"])
        #expect(added(on).keys.contains("out/normal/sysinit.target.wants/ec2-netgen-boot.service"))
    }

    @Test("no DMI at all (a container) counts as not EC2")
    func noDMI() throws {
        let run = try generate(cmdline: "", dmi: [:])
        #expect(added(run) == Self.masked)
    }

    @Test("[Refresh] IntervalSec= becomes a timer drop-in; a broken config is ignored, not fatal")
    func refreshInterval() throws {
        let run = try generate(cmdline: "", dmi: ["sys_vendor": "Amazon EC2"], config: "[Refresh]\nIntervalSec=300\n")
        #expect(run.status == 0)
        // The triggers are reset first (a timer drop-in appends to them); the reset drops
        // OnBootSec= too, so it is declared again, or the timer would never fire.
        #expect(added(run)["out/normal/ec2-netgen-refresh.timer.d/50-interval.conf"]
            == "file: # Written by ec2-netgen-generator from [Refresh] IntervalSec=.\n\n[Timer]\nOnUnitActiveSec=\nOnBootSec=300s\nOnUnitActiveSec=300s\n")
        let broken = try generate(cmdline: "", dmi: ["sys_vendor": "Amazon EC2"], config: "[Refresh]\nIntervalSec=often\n")
        #expect(broken.status == 0)
        #expect(broken.stderr.isEmpty)
        #expect(added(broken)["out/normal/ec2-netgen-refresh.timer.d/50-interval.conf"] == nil)
        #expect(added(broken)["out/normal/sysinit.target.wants/ec2-netgen-boot.service"] != nil)
    }

    @Test("systemd-imds locked: the units that read IMDS may mark sockets (CAP_NET_ADMIN); unlocked or absent: nothing")
    func systemdIMDSLocked() throws {
        let dropIn = "file: # Written by ec2-netgen-generator: systemd-imds locks IMDS on this host (systemd.imds.network=locked).\n\n[Service]\nCapabilityBoundingSet=CAP_NET_ADMIN\n"
        let locked = try generate(cmdline: "systemd.imds.network=locked", dmi: ["sys_vendor": "Amazon EC2"], systemdIMDS: true)
        #expect(locked.status == 0 && locked.stderr.isEmpty)
        #expect(added(locked)["out/normal/ec2-netgen@.service.d/50-systemd-imds.conf"] == dropIn)
        #expect(added(locked)["out/normal/ec2-netgen-refresh.service.d/50-systemd-imds.conf"] == dropIn)
        #expect(added(locked)["out/normal/ec2-netgen-boot.service.d/50-systemd-imds.conf"] == nil, "the boot path reads no IMDS")
        let unlocked = try generate(cmdline: "", dmi: ["sys_vendor": "Amazon EC2"], systemdIMDS: true)
        #expect(!added(unlocked).keys.contains { $0.contains("50-systemd-imds") })
        let absent = try generate(cmdline: "systemd.imds.network=locked", dmi: ["sys_vendor": "Amazon EC2"])
        #expect(!added(absent).keys.contains { $0.contains("50-systemd-imds") })
    }

    @Test("usage errors exit non-zero")
    func usage() throws {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = ["/tmp/a", "/tmp/b"]
        process.standardError = Pipe()
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 1)
    }
}
