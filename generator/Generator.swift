import EC2NetCore
import EC2NetFS
import Glibc

/// The generator's decision and its output. The root (`EC2_NETGEN_GENERATOR_ROOT`) only
/// redirects what is read (`/proc/cmdline`, DMI) and where the log goes, so tests can feed
/// fake inputs; output directories are always the arguments.
struct Generator {
    /// Prefix for `/proc` and `/sys` reads, "" in production.
    let root: String
    /// Normal-priority output directory (wants symlinks).
    let normal: String
    /// Early (highest-priority) output directory (masks beat even /etc).
    let early: String

    /// Every unit ec2-netgen ships that can start it.
    static let units = ["ec2-netgen-boot.service", "ec2-netgen@.service", "ec2-netgen-refresh.service",
                        "ec2-netgen-refresh.timer"]
    /// Where the package installs its units; a wants symlink's target only names the unit.
    static let unitDirectory = "/usr/lib/systemd/system"

    /// The test root override, validated: absolute and without `..`.
    static func rootFromEnvironment() -> String {
        guard let value = getenv("EC2_NETGEN_GENERATOR_ROOT") else { return "" }
        let root = String(cString: value)
        guard root.hasPrefix("/"), !root.split(separator: "/").contains("..") else { return "" }
        return root == "/" ? "" : root
    }

    func run() {
        let switchSetting = kernelSwitch()
        if switchSetting == "off" {
            mask(reason: "ec2-netgen=off on the kernel command line")
            return
        }
        if switchSetting != "on", let vendor = nonEC2Vendor() {
            mask(reason: "not an EC2 instance (DMI: \(vendor))")
            return
        }
        link("sysinit.target.wants", unit: "ec2-netgen-boot.service")
        link("timers.target.wants", unit: "ec2-netgen-refresh.timer")
        let options = configuration()
        if let interval = options.service.refreshIntervalSeconds { writeTimerInterval(interval) }
        if options.imdsNetworking == .locked { writeIMDSMarkCapability() }
    }

    /// The configuration files, and the host's systemd-imds networking read with them.
    /// Read leniently, as every unattended path reads them: a bad line is logged
    /// (file:line) and ignored, and the rest applies; the generator must never fail the boot.
    func configuration() -> PlanOptions {
        let (options, problems) = ConfigurationFiles.loadLenient(root: root.isEmpty ? "/" : root)
        for problem in problems { log(4, "ignoring \(problem)") }
        return options
    }

    /// Where systemd-imds locks IMDS, the units that read IMDS get the one capability that
    /// marks a socket with systemd-imdsd's mark (SO_MARK needs CAP_NET_ADMIN), the only
    /// way past the lock. Everywhere else they keep an empty capability set.
    func writeIMDSMarkCapability() {
        var file = INIWriter()
        file.comment("Written by ec2-netgen-generator: systemd-imds locks IMDS on this host (systemd.imds.network=locked).")
        file.section("Service")
        file.entry("CapabilityBoundingSet", literal: "CAP_NET_ADMIN")
        for unit in ["ec2-netgen@.service", "ec2-netgen-refresh.service"] {
            let directory = normal + "/" + unit + ".d"
            do {
                try FileIO.makeDirectories(directory)
                try FileIO.writeAtomically(directory + "/50-systemd-imds.conf", contents: file.bytes, mode: 0o644)
            } catch {
                log(3, "\(error)")
            }
        }
    }

    /// A drop-in replacing the timer's period: `ec2-netgen-refresh.timer.d/50-interval.conf`.
    func writeTimerInterval(_ seconds: Int) {
        let directory = normal + "/ec2-netgen-refresh.timer.d"
        // Through the one INI model. An empty On…Sec= resets every trigger of the timer,
        // OnBootSec= included (systemd.timer(5)), so both are declared again after it:
        // without OnBootSec= the service never runs once, and OnUnitActiveSec= (relative
        // to its last run) never elapses. The VM suite caught that.
        var file = INIWriter()
        file.comment("Written by ec2-netgen-generator from [Refresh] IntervalSec=.")
        file.section("Timer")
        file.entry("OnUnitActiveSec", literal: "")
        file.entry("OnBootSec", "\(seconds)s")
        file.entry("OnUnitActiveSec", "\(seconds)s")
        do {
            try FileIO.makeDirectories(directory)
            try FileIO.writeAtomically(directory + "/50-interval.conf", contents: file.bytes, mode: 0o644)
        } catch {
            log(3, "\(error)")
        }
    }

    /// `ec2-netgen=` from the kernel command line: "off", "on", or nil. The last one wins,
    /// as for systemd's own switches.
    func kernelSwitch() -> String? {
        guard let text = read("/proc/cmdline") else { return nil }
        var setting: String?
        let prefix = Array("ec2-netgen=".utf8)
        for bytes in text.utf8.split(whereSeparator: { $0 == 0x20 || $0 == 0x0A || $0 == 0x09 }) where bytes.starts(with: prefix) {
            let word = String(decoding: bytes, as: UTF8.self)
            switch String(decoding: bytes.dropFirst(prefix.count), as: UTF8.self).lowercased() {
            case "0", "off", "no", "false": setting = "off"
            case "1", "on", "yes", "true": setting = "on"
            default: log(4, "ignoring unknown \(word) on the kernel command line")
            }
        }
        return setting
    }

    /// nil on EC2; otherwise what DMI says instead. Nitro reports sys_vendor "Amazon EC2";
    /// Xen instances report a bios_version ending in ".amazon" and a product_uuid
    /// starting with "ec2". Missing DMI (containers) counts as not EC2.
    func nonEC2Vendor() -> String? {
        let base = "/sys/class/dmi/id/"
        let vendor = read(base + "sys_vendor") ?? ""
        if vendor == "Amazon EC2" { return nil }
        if (read(base + "bios_version") ?? "").lowercased().hasSuffix(".amazon") { return nil }
        if (read(base + "product_uuid") ?? "").lowercased().hasPrefix("ec2") { return nil }
        return vendor.isEmpty ? "no DMI vendor" : vendor
    }

    /// Masks every unit for this boot.
    func mask(reason: String) {
        log(6, "masking ec2-netgen units: \(reason)")
        for unit in Self.units { symlink("/dev/null", at: early + "/" + unit) }
    }

    /// `DIR/TARGET.wants/UNIT -> unit file`.
    func link(_ wants: String, unit: String) {
        let directory = normal + "/" + wants
        do {
            try FileIO.makeDirectories(directory)
        } catch {
            log(3, "\(error)")
            return
        }
        symlink(Self.unitDirectory + "/" + unit, at: directory + "/" + unit)
    }

    private func symlink(_ target: String, at path: String) {
        if Glibc.symlink(target, path) != 0 && errno != EEXIST {
            log(3, "symlink \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// A small file's content without trailing newline, or nil.
    private func read(_ path: String) -> String? {
        guard let bytes = try? FileIO.read(root + path, limit: 65536) else { return nil }
        var text = String(decoding: bytes, as: UTF8.self)
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    /// A kernel log line, `<level>ec2-netgen-generator: message`. The generator may talk
    /// to no process, and the journal is not up yet; /dev/kmsg is how generators log.
    func log(_ level: Int, _ message: String) {
        let fd = open(root + "/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let line = "<\(level)>ec2-netgen-generator: \(message)\n"
        _ = line.withCString { write(fd, $0, strlen($0)) }
    }
}
