import EC2NetCore

/// One thing `status` found not as planned: what kind, and the sentence an operator
/// reads. Tests assert on the kind; the text and JSON renderings print the sentence.
public struct StatusProblem: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// Neither the applied record nor the cache exists.
        case notApplied
        /// The recorded metadata cannot be planned.
        case unplannable
        /// An ENI whose metadata looks mid-attach: its files are kept as they were.
        case incompleteENI
        /// The metadata has ENIs but no present link matches any of them.
        case noENIConfigured
        /// A file of the plan is not on disk.
        case missingFile
        /// A file of the plan differs from what ec2-netgen renders.
        case editedFile
        /// A file of ec2-netgen's that belongs to no ENI of the plan.
        case strayFile
        /// networkd is not running.
        case networkdNotRunning
        /// networkd applied another `.network` file to an ENI's link.
        case shadowedFile
        /// The kernel's rules and routes could not be read.
        case kernelUnreadable
        /// The kernel lacks rules or routes of the plan.
        case missingRules, missingRoutes, missingMainRule
        /// The last IMDS read failed, or the last good one is too old.
        case imdsReadFailed, imdsReadStale
        /// `status NAME` named no configured ENI.
        case unknownENI
    }

    public var kind: Kind
    public var detail: String

    public init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }

    public var description: String { detail }
}
