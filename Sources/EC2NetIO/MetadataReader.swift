import EC2NetCore
import EC2NetHTTP

/// What the operations ask of IMDS: the document, and what is still missing from one
/// ENI's record. `IMDSClient` (the own client) and `SystemdIMDSClient` (systemd's IMDS
/// service) are the real ones, `FallbackReader` puts the first behind the second; tests
/// hand in a fake.
public protocol MetadataReader: AnyObject, Sendable {
    /// The whole metadata document (see `IMDSTree.readDocument`).
    func fetchDocument(previous: MetadataDocument?, only: MACAddress?, sourceLinks: [MACAddress: String]) throws(IOError)
        -> MetadataDocument
    /// What is still missing from a MAC's record, or nil when it is complete.
    func missingPart(of mac: MACAddress) throws(IOError) -> String?
    /// One line on what the reads cost: requests, retries, time spent waiting for the
    /// packet budget, the endpoint.
    func costSummary(milliseconds: Int) -> String
    /// The endpoint answering, for messages.
    var endpointDescription: String { get }
}

extension IMDSClient: MetadataReader {
    public func fetchDocument(previous: MetadataDocument? = nil, only: MACAddress? = nil,
                              sourceLinks: [MACAddress: String] = [:]) throws(IOError) -> MetadataDocument {
        try readDocument(previous: previous, only: only, sourceLinks: sourceLinks)
    }

    public func missingPart(of mac: MACAddress) throws(IOError) -> String? {
        try readMissingPart(of: mac)
    }

    public func costSummary(milliseconds: Int) -> String {
        "imds: \(requestCount) requests, \(retryCount) retries, \(milliseconds) ms, budget waits \(pacedMilliseconds) ms (\(endpointInUse))"
    }

    public var endpointDescription: String { endpointInUse.description }
}
