import EC2NetCore
import Synchronization

/// systemd's IMDS service first, ec2-netgen's own client once the service fails: a
/// service that is installed but not working (no EC2 vendor, a daemon that cannot start,
/// no answer in time) must not cost the instance its routing. After the first failure
/// the run stays on the fallback, and the cost line says why.
public final class FallbackReader: MetadataReader {
    private let preferred: MetadataReader
    private let fallback: MetadataReader
    /// Why the run left the preferred reader, once it has.
    private let fellBack = Mutex<String?>(nil)

    public init(preferred: MetadataReader, fallback: MetadataReader) {
        self.preferred = preferred
        self.fallback = fallback
    }

    /// The failure that moved the run to the fallback, or nil while on the preferred reader.
    public var fallbackReason: String? { fellBack.withLock { $0 } }

    private func read<T>(_ body: (MetadataReader) throws(IOError) -> T) throws(IOError) -> T {
        if fellBack.withLock({ $0 }) == nil {
            do throws(IOError) {
                return try body(preferred)
            } catch {
                fellBack.withLock { $0 = error.description }
            }
        }
        return try body(fallback)
    }

    public func fetchDocument(previous: MetadataDocument?, only: MACAddress?,
                              sourceLinks: [MACAddress: String]) throws(IOError) -> MetadataDocument {
        try read { reader throws(IOError) in try reader.fetchDocument(previous: previous, only: only, sourceLinks: sourceLinks) }
    }

    public func missingPart(of mac: MACAddress) throws(IOError) -> String? {
        try read { reader throws(IOError) in try reader.missingPart(of: mac) }
    }

    public func costSummary(milliseconds: Int) -> String {
        guard let reason = fallbackReason else { return preferred.costSummary(milliseconds: milliseconds) }
        return fallback.costSummary(milliseconds: milliseconds) + "; \(preferred.endpointDescription) failed first: \(reason)"
    }

    public var endpointDescription: String {
        fallbackReason == nil ? preferred.endpointDescription : fallback.endpointDescription
    }
}
