import EC2NetCore
import Glibc

/// The host facts `IMDSNetworking.decide` needs, read under a root: the early-network
/// file systemd-imdsd wrote, the kernel command line, and whether systemd-imds is
/// installed. Reads only; the decision is the core's.
public enum SystemdIMDSState {
    /// This host's systemd-imds networking. Unreadable facts count as absent.
    public static func read(root: String) -> IMDSNetworking {
        let base = root.trimmingSlash
        let early = (try? FileIO.readTextIfPresent(base + IMDSNetworking.earlyNetworkFile)).flatMap { $0 }
        let commandLine = (try? FileIO.readTextIfPresent(base + "/proc/cmdline")).flatMap { $0 }
        let installed = access(base + IMDSNetworking.daemonPath, X_OK) == 0
        return IMDSNetworking.decide(earlyNetworkFile: early, kernelCommandLine: commandLine, daemonInstalled: installed)
    }

    /// The socket of systemd's IMDS service under `root`, when it exists (the socket
    /// unit listens).
    public static func serviceSocket(root: String) -> String? {
        let path = root.trimmingSlash + IMDSReadPath.serviceSocket
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFSOCK ? path : nil
    }
}
