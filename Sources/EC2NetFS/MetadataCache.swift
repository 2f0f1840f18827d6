import EC2NetCore

/// The last metadata document read live from IMDS, the input of `apply --cached` at boot
/// and after a detach. Written only after a complete, parsed live read, so it is never
/// emptier than the truth.
public struct MetadataCache: Sendable {
    /// Path of the cache file.
    public let path: String

    /// The cache under a root: `ROOT/var/lib/ec2-netgen/metadata.json`.
    public init(root: String) { self.path = root.trimmingSlash + "/var/lib/ec2-netgen/metadata.json" }

    /// The cached document's bytes, or nil when there is no cache yet.
    public func load() throws(FSError) -> [UInt8]? {
        do {
            return try FileIO.read(path)
        } catch where error.code == ENOENT {
            return nil
        }
    }

    /// Replaces the cache atomically (mode 0644: it holds no secret, the token never
    /// enters the document). Returns false when it already held these bytes.
    @discardableResult
    public func save(_ document: MetadataDocument) throws(FSError) -> Bool {
        try save(serialized: document.serializedBytes())
    }

    /// Saves an already serialized document (`MetadataDocument.serializedBytes()`).
    @discardableResult
    public func save(serialized bytes: [UInt8]) throws(FSError) -> Bool {
        if let current = try? FileIO.read(path), FileIO.sameBytes(current, bytes) { return false }
        try FileIO.makeDirectories(FileIO.parent(of: path))
        try FileIO.writeAtomically(path, contents: bytes, mode: 0o644)
        return true
    }
}

import Glibc
