import Glibc

/// The outcome of the last live IMDS read, for `status`: `ROOT/run/ec2-netgen/last-imds`,
/// one line `ok|failed EPOCH DETAIL`. Best effort: failing to record never fails a run.
public struct LastRun: Sendable {
    /// Path of the record.
    public let path: String

    /// The record under a root.
    public init(root: String) { path = RuntimeDirectory.path(root: root) + "/last-imds" }

    /// Records an outcome.
    public func record(ok: Bool, detail: String) {
        let line = "\(ok ? "ok" : "failed") \(time(nil)) " + detail.split(separator: "\n").joined(separator: " ") + "\n"
        try? FileIO.makeDirectories(FileIO.parent(of: path))
        try? FileIO.writeAtomically(path, contents: Array(line.utf8), mode: 0o644)
    }

    /// The last outcome: success, seconds since the epoch, detail; nil when none yet.
    public func load() -> (ok: Bool, epoch: Int, detail: String)? {
        guard let text = try? FileIO.readTextIfPresent(path) else { return nil }
        let parts = text.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, let epoch = Int(parts[1]) else { return nil }
        var detail = parts.count == 3 ? String(parts[2]) : ""
        while detail.hasSuffix("\n") { detail.removeLast() }
        return (parts[0] == "ok", epoch, detail)
    }
}
