/// An ENI of the metadata that gets no files in this run, and why.
public struct SkippedInterface: Equatable, Sendable, CustomStringConvertible {
    /// Why an ENI is not configured.
    public enum Reason: Equatable, Sendable, CustomStringConvertible {
        /// No link with its MAC exists here (detached, or not yet probed).
        case notAttached
        /// The configuration opts it out (`Managed=no`).
        case optedOut
        /// Another network manager claims the link (`ID_NET_MANAGED_BY`).
        case managedBy(String)
        /// IMDS lists no IP address for it: an EFA-only interface (on P5, card 0 device 1 and
        /// device 0 of the other cards), which may not even be a netdev. Never an error, and
        /// it takes no number from another ENI (numbers come from its own card and device).
        case noAddresses
        /// IMDS has not finished describing a hot-attached ENI; its files are left as
        /// they are on disk.
        case incomplete(String)

        public var description: String {
            switch self {
            case .notAttached: return "not attached here"
            case .optedOut: return "opted out by configuration"
            case .managedBy(let manager): return "managed by \(quoted(manager))"
            case .noAddresses: return "no IP address (EFA-only?)"
            case .incomplete(let why): return "metadata incomplete (\(why)); files left as they are"
            }
        }
    }

    /// The ENI's MAC.
    public var mac: MACAddress
    /// `eni-…`, when known.
    public var interfaceID: String?
    /// Why it is skipped.
    public var reason: Reason

    /// `MAC[ ENI-ID]: reason`: how every report names a skipped ENI.
    public var description: String { "\(mac)\(interfaceID.map { " " + $0 } ?? ""): \(reason)" }
}
