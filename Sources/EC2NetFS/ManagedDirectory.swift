import EC2NetCore
import Glibc

/// The directory networkd reads (`/run/systemd/network`), of which ec2-netgen owns only
/// the files carrying its marker. Syncing writes what changed, leaves identical files
/// alone (networkd 252 reconfigures a link when a file's timestamp changes, even with the
/// same bytes) and deletes only stale files that are provably ours.
public struct ManagedDirectory: Sendable {
    /// Absolute path of the directory.
    public let path: String

    /// The directory under a root (`ROOT/run/systemd/network`).
    public init(root: String) { self.path = root.trimmingSlash + "/run/systemd/network" }

    /// A directory at an explicit path.
    public init(path: String) { self.path = path }

    /// Makes the directory hold exactly `artifacts` among its marked files, except the
    /// names in `preserve` (ENIs whose metadata is incomplete), which are left untouched.
    public func sync(_ artifacts: [Artifact], preserve: Set<String> = []) throws(FSError) -> SyncReport {
        var report = SyncReport()
        try write(artifacts, into: &report)
        let wanted = Set(artifacts.map(\.name))
        for name in try FileIO.list(path) {
            if (name.hasPrefix("." + Artifact.namePrefix) || name.hasPrefix("." + Artifact.unmanagedPrefix)) && name.hasSuffix(".tmp") {
                // A temp file left by a run that was killed mid-write; networkd ignores
                // dot files, so this is tidiness, not correctness.
                try FileIO.remove(path + "/" + name, syncDirectory: false)
                continue
            }
            guard Artifact.hasMarker(name), !wanted.contains(name) else { continue }
            if preserve.contains(name) { report.preserved.append(name); continue }
            guard try carriesHeader(path + "/" + name) else { report.foreign.append(name); continue }
            try FileIO.remove(path + "/" + name, syncDirectory: false)
            report.removed.append(name)
        }
        if report.changed { try FileIO.syncDirectory(path) }
        return report
    }

    /// Writes `artifacts` where their bytes differ and removes nothing: a step before the
    /// sync that follows it (AddressStaging.swift).
    public func update(_ artifacts: [Artifact]) throws(FSError) -> SyncReport {
        var report = SyncReport()
        try write(artifacts, into: &report)
        if report.changed { try FileIO.syncDirectory(path) }
        return report
    }

    private func write(_ artifacts: [Artifact], into report: inout SyncReport) throws(FSError) {
        try FileIO.makeDirectories(path)
        for artifact in artifacts.sorted(by: { $0.name < $1.name }) {
            let target = path + "/" + artifact.name
            let bytes = artifact.bytes
            if try isCurrent(target, bytes: bytes, mode: artifact.mode) {
                report.unchanged.append(artifact.name)
                continue
            }
            let existed = access(target, F_OK) == 0
            // Each file is replaced atomically (rename); the directory is fsynced once at the
            // end, which makes every rename durable without one fsync per file.
            try FileIO.writeAtomically(target, contents: bytes, mode: artifact.mode, syncDirectory: false)
            if existed { report.updated.append(artifact.name) } else { report.created.append(artifact.name) }
        }
    }

    /// Names of the marked files currently present.
    public func managedFiles() throws(FSError) -> [String] {
        try FileIO.list(path).filter(Artifact.hasMarker)
    }

    /// True when the file exists with exactly these bytes and mode.
    private func isCurrent(_ target: String, bytes: [UInt8], mode: UInt16) throws(FSError) -> Bool {
        var info = stat()
        guard lstat(target, &info) == 0 else {
            if errno == ENOENT { return false }
            throw FSError(operation: "stat", path: target, code: errno)
        }
        guard info.st_mode & S_IFMT == S_IFREG, UInt16(info.st_mode & 0o7777) == mode,
              Int(info.st_size) == bytes.count else { return false }
        return FileIO.sameBytes(try FileIO.read(target), bytes)
    }

    /// The second half of the marker: a file we wrote starts with our header line. A file
    /// someone named like ours by hand is reported, never deleted.
    private func carriesHeader(_ target: String) throws(FSError) -> Bool {
        let bytes = try FileIO.read(target, limit: 1 << 20)
        return bytes.starts(with: Array((Artifact.headerLine + "\n").utf8))
    }
}

/// What a sync did, file by file.
public struct SyncReport: Equatable, Sendable {
    /// New files.
    public var created: [String] = []
    /// Files whose bytes changed.
    public var updated: [String] = []
    /// Files already current, not touched.
    public var unchanged: [String] = []
    /// Stale marked files deleted.
    public var removed: [String] = []
    /// Stale files kept because their ENI's metadata is incomplete.
    public var preserved: [String] = []
    /// Files named like ours but without our header: left alone.
    public var foreign: [String] = []

    /// Creates an empty report.
    public init() {}

    /// True when networkd must be told to reload.
    public var changed: Bool { !created.isEmpty || !updated.isEmpty || !removed.isEmpty }

    /// What an earlier step and this sync did together, as one sync: a file the earlier
    /// step created counts as created, one it updated as updated, whatever this sync did.
    public func following(_ earlier: SyncReport) -> SyncReport {
        var result = self
        let gone = Set(removed)
        let created = Set(self.created + earlier.created).subtracting(gone)
        let touched = created.union(earlier.updated).union(updated).subtracting(gone)
        result.created = created.sorted()
        result.updated = touched.subtracting(created).sorted()
        result.unchanged = unchanged.filter { !touched.contains($0) }
        return result
    }
}

extension String {
    /// The path without trailing slashes (but `/` stays `` so `root + "/run"` works).
    var trimmingSlash: String {
        var text = self
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }
}
