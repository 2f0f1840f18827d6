/// ec2-netgen's runtime state under a root, `ROOT/run/ec2-netgen`: the run lock, the
/// record of the last apply and IMDS read, the shared IMDS packet budgets. One home for
/// the path, so every reader and writer agrees on it.
public enum RuntimeDirectory {
    /// The directory under `root` ("/" on an instance).
    public static func path(root: String) -> String { root.trimmingSlash + "/run/ec2-netgen" }
}
