/// Which way a run reads IMDS: its own HTTP client, or systemd's IMDS service (systemd
/// 261+, `systemd-imdsd`, Varlink) with the own client behind it for when the service
/// fails (`FallbackReader`). The own client is the default: measured in the policed VPC
/// (BENCHMARKS.md, docs/decisions.md), a read through the service takes about 80 times as
/// long for 16 ENIs and costs more IMDS requests, as the service forks a reader and
/// fetches a session token per call; in locked mode the own client passes the lock with
/// the service's firewall mark. The service is used when the operator asks for it
/// (`[IMDS] UseSystemdIMDS=yes`), it listens, and nothing chose another endpoint (the
/// service reads the endpoint systemd was given, not that one).
public enum IMDSReadPath: Equatable, Sendable {
    /// Through systemd's service, falling back to the own client.
    case systemdService
    /// The own HTTP client only.
    case ownClient

    /// Where systemd's socket unit (`systemd-imdsd.socket`) listens, under a root.
    public static let serviceSocket = "/run/systemd/io.systemd.InstanceMetadata"

    /// The decision, made once: `requested` is `UseSystemdIMDS=`, `endpointChosenBy`
    /// names what chose the endpoint (nil for EC2's default), `serviceListening` whether
    /// the service's socket exists.
    public static func decide(requested: Bool, endpointChosenBy: String?, serviceListening: Bool) -> IMDSReadPath {
        requested && endpointChosenBy == nil && serviceListening ? .systemdService : .ownClient
    }
}
