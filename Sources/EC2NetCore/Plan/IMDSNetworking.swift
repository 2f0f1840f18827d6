/// How systemd's own IMDS service (package `systemd-imds`, systemd 261 and later) sets up
/// the network for IMDS on this host. `systemd-imdsd --setup-network` writes
/// `85-imds-early.network` for every Ethernet link: a route to each IMDS address in table
/// `0x7FFF0815` with a rule sending sockets marked `0x7FFF0815` there (how the daemon
/// reaches IMDS) and, when locked, `prohibit` routes to both addresses in the main table,
/// so no other process reaches IMDS. ec2-netgen's files sort first and replace that file on
/// every ENI, so they must carry the same routes and rule, or installing ec2-netgen would
/// lift the operator's lock (docs/decisions.md).
public enum IMDSNetworking: String, Equatable, Sendable, CaseIterable {
    /// `systemd.imds.network=off`, or no systemd-imds: nothing to carry.
    case off
    /// The default: the daemon's table and rule, IMDS open to every process.
    case unlocked
    /// `systemd.imds.network=locked`: IMDS only for marked sockets (root's, the daemon's).
    case locked

    /// The path of systemd-imdsd's early-network file, under a root.
    public static let earlyNetworkFile = "/run/systemd/network/85-imds-early.network"
    /// The daemon ec2-netgen looks for to know systemd-imds is installed.
    public static let daemonPath = "/usr/lib/systemd/systemd-imdsd"

    /// The decision, made once. What systemd-imdsd wrote wins (it has decided: a file
    /// with a `Type=prohibit` route is locked, any other is unlocked). Before it has run
    /// (ec2-netgen's boot service may come first), the kernel command line decides as
    /// systemd-imdsd will: the last `systemd.imds.network=` with a known value, else
    /// unlocked, provided systemd-imds is installed at all.
    public static func decide(earlyNetworkFile: String?, kernelCommandLine: String?, daemonInstalled: Bool) -> IMDSNetworking {
        if let earlyNetworkFile {
            var problems: [InputError] = []
            let sections = INIParser.parse(earlyNetworkFile, file: Self.earlyNetworkFile, problems: &problems)
            let prohibits = sections.contains { section in
                section.name == "Route" && section.entries.contains { $0.key == "Type" && $0.value == "prohibit" }
            }
            return prohibits ? .locked : .unlocked
        }
        guard daemonInstalled else { return .off }
        var mode = IMDSNetworking.unlocked
        let prefix = "systemd.imds.network="
        for word in (kernelCommandLine ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
        where word.hasPrefix(prefix) {
            if let value = IMDSNetworking(rawValue: String(word.dropFirst(prefix.count))) { mode = value }
        }
        return mode
    }
}
