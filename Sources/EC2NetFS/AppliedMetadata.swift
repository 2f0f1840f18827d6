/// What `status` and `explain` read the system against: the document of the last apply
/// (`AppliedRecord`), else the boot cache (`MetadataCache`), which a boot before this
/// run's first apply left behind.
public struct AppliedMetadata: Sendable {
    /// The document's bytes.
    public let bytes: [UInt8]
    /// The file they came from, for messages and parse errors.
    public let source: String

    /// The record, else the cache, else nil.
    public static func load(root: String) -> AppliedMetadata? {
        let record = AppliedRecord(root: root)
        if let bytes = record.load() { return AppliedMetadata(bytes: bytes, source: record.path) }
        let cache = MetadataCache(root: root)
        if let bytes = (try? cache.load()).flatMap({ $0 }) { return AppliedMetadata(bytes: bytes, source: cache.path) }
        return nil
    }

    /// The message for a root where neither exists.
    public static func absence(root: String) -> String {
        "ec2-netgen has not applied here yet: no \(AppliedRecord(root: root).path) and no cache at \(MetadataCache(root: root).path)"
    }
}
