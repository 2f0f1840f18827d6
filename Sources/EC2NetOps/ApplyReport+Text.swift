extension ApplyReport {
    /// The report as `apply` prints it: one line per file touched, the skipped ENIs, the
    /// summary, the IMDS cost and what networkd was told.
    public func lines() -> [String] {
        var lines: [String] = []
        if let diff, !diff.isEmpty { lines.append(String(diff.dropLast())) }
        for name in sync.created { lines.append("created   \(directory)/\(name)") }
        for name in sync.updated { lines.append("updated   \(directory)/\(name)") }
        for name in sync.removed { lines.append("removed   \(directory)/\(name)") }
        for name in sync.preserved { lines.append("kept      \(directory)/\(name) (metadata incomplete)") }
        for name in sync.foreign { lines.append("ignored   \(directory)/\(name) (named like ours, but not written by ec2-netgen)") }
        for skipped in plan.skipped {
            lines.append("skipped   \(skipped)")
        }
        let total = sync.created.count + sync.updated.count + sync.removed.count
        lines.append(total == 0 ? "no change: \(sync.unchanged.count) files up to date"
                                : "\(total) file(s) changed, \(sync.unchanged.count) unchanged")
        if let imdsSummary { lines.append(imdsSummary) }
        switch reload {
        case .reloaded?: lines.append("reloaded  systemd-networkd")
        case .notRunning?: lines.append("networkd is not running; it will read the files when it starts")
        case nil: break
        }
        return lines
    }
}
