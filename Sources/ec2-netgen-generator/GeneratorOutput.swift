import EC2NetCore

/// What the generator writes for a decision, as values: symlinks and small files under
/// its output directories. Pure; `main` writes them.
struct GeneratorOutput: Equatable {
    enum Entry: Equatable {
        case symlink(path: String, target: String)
        case file(path: String, contents: [UInt8])
    }

    var entries: [Entry] = []

    /// Every unit ec2-netgen ships that can start it.
    static let units = ["ec2-netgen-boot.service", "ec2-netgen-cloud-init.service", "ec2-netgen@.service",
                        "ec2-netgen-refresh.service", "ec2-netgen-refresh.timer"]
    /// Where the package installs its units; a wants symlink's target only names the unit.
    static let unitDirectory = "/usr/lib/systemd/system"

    /// Every unit masked for this boot: symlinks to /dev/null in the early directory,
    /// which beats even /etc.
    static func masked(early: String) -> GeneratorOutput {
        GeneratorOutput(entries: units.map { .symlink(path: early + "/" + $0, target: "/dev/null") })
    }

    /// The boot services and the refresh timer wired in, and what the configuration and
    /// the host's systemd-imds networking add: the timer's period, the IMDS mark capability.
    static func enabled(normal: String, options: PlanOptions) -> GeneratorOutput {
        var output = GeneratorOutput()
        output.wants("sysinit.target.wants", unit: "ec2-netgen-boot.service", normal: normal)
        output.wants("sysinit.target.wants", unit: "ec2-netgen-cloud-init.service", normal: normal)
        output.wants("timers.target.wants", unit: "ec2-netgen-refresh.timer", normal: normal)
        if let seconds = options.service.refreshIntervalSeconds {
            output.entries.append(.file(path: normal + "/ec2-netgen-refresh.timer.d/50-interval.conf", contents: timerInterval(seconds)))
        }
        if options.imdsNetworking == .locked {
            for unit in ["ec2-netgen@.service", "ec2-netgen-refresh.service"] {
                output.entries.append(.file(path: normal + "/" + unit + ".d/50-systemd-imds.conf", contents: imdsMarkCapability()))
            }
        }
        return output
    }

    /// `DIR/TARGET.wants/UNIT -> unit file`.
    private mutating func wants(_ wants: String, unit: String, normal: String) {
        entries.append(.symlink(path: normal + "/" + wants + "/" + unit, target: Self.unitDirectory + "/" + unit))
    }

    /// The timer drop-in replacing its period. An empty On…Sec= resets every trigger of
    /// the timer, OnBootSec= included (systemd.timer(5)), so both are declared again after
    /// it: without OnBootSec= the service never runs once, and OnUnitActiveSec= (relative
    /// to its last run) never elapses.
    static func timerInterval(_ seconds: Int) -> [UInt8] {
        var file = INIWriter()
        file.comment("Written by ec2-netgen-generator from [Refresh] IntervalSec=.")
        file.section("Timer")
        file.entry("OnUnitActiveSec", literal: "")
        file.entry("OnBootSec", "\(seconds)s")
        file.entry("OnUnitActiveSec", "\(seconds)s")
        return file.bytes
    }

    /// Where systemd-imds locks IMDS, the units that read IMDS get the one capability that
    /// marks a socket with systemd-imdsd's mark (SO_MARK needs CAP_NET_ADMIN), the only
    /// way past the lock. Everywhere else they keep an empty capability set.
    static func imdsMarkCapability() -> [UInt8] {
        var file = INIWriter()
        file.comment("Written by ec2-netgen-generator: systemd-imds locks IMDS on this host (systemd.imds.network=locked).")
        file.section("Service")
        file.entry("CapabilityBoundingSet", literal: "CAP_NET_ADMIN")
        return file.bytes
    }
}
