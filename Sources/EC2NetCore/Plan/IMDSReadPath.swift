/// Which way a run reads IMDS. systemd's IMDS service (systemd 261+) holds the session
/// token and is the way through its IMDS lock, so where it listens it is used, with the
/// own client behind it for when it fails (`FallbackReader`). An endpoint the operator
/// chose (flag, AWS SDK variable, `[IMDS]` line) is read by the own client only: the
/// service reads the endpoint systemd was given, not that one.
public enum IMDSReadPath: Equatable, Sendable {
    /// Through systemd's service, falling back to the own client.
    case systemdService
    /// The own HTTP client only.
    case ownClient

    /// Where systemd's socket unit (`systemd-imdsd.socket`) listens, under a root.
    public static let serviceSocket = "/run/systemd/io.systemd.InstanceMetadata"

    /// The decision, made once: `endpointChosenBy` names what chose the endpoint (nil for
    /// EC2's default), `serviceListening` whether the service's socket exists.
    public static func decide(endpointChosenBy: String?, serviceListening: Bool) -> IMDSReadPath {
        endpointChosenBy == nil && serviceListening ? .systemdService : .ownClient
    }
}
