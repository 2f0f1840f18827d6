import EC2NetCore

/// The metadata document of the last successful apply, whatever its source:
/// `ROOT/run/ec2-netgen/applied-metadata.json`. `status` checks the system against it, so
/// an offline apply (`--metadata`, an image build) can be checked too, without that
/// document becoming the boot cache. Best effort: failing to record never fails a run.
public struct AppliedRecord: Sendable {
    public let path: String

    public init(root: String) { path = RuntimeDirectory.path(root: root) + "/applied-metadata.json" }

    /// Records the document, if its bytes differ from the record's.
    public func save(_ document: MetadataDocument) { save(serialized: document.serializedBytes()) }

    /// Records an already serialized document (apply serializes once for this and the cache).
    public func save(serialized bytes: [UInt8]) {
        if holds(bytes) { return }
        try? FileIO.makeDirectories(FileIO.parent(of: path))
        try? FileIO.writeAtomically(path, contents: bytes, mode: 0o644)
    }

    /// True when the record holds exactly `bytes`.
    public func holds(_ bytes: [UInt8]) -> Bool {
        guard let recorded = try? FileIO.read(path) else { return false }
        return FileIO.sameBytes(recorded, bytes)
    }

    /// The recorded document's bytes, or nil when there is none.
    public func load() -> [UInt8]? { try? FileIO.read(path) }
}
