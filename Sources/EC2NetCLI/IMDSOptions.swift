import ArgumentParser
import EC2NetIO

/// The IMDS flags of every command that may read it; their values are an `IMDSAccess`.
struct IMDSOptions: ParsableArguments {
    @Option(help: ArgumentHelp("IMDS base URL (default: AWS_EC2_METADATA_SERVICE_ENDPOINT[_MODE], else http://169.254.169.254).",
                               valueName: "URL"))
    var imdsEndpoint: String?

    // Unconditional, so a negative number is read as a value and refused by validate(),
    // not taken for a flag ("Missing value").
    @Option(parsing: .unconditional, help: ArgumentHelp("Give up retrying IMDS after this many seconds (more than 0, at most 600).", valueName: "SECONDS"))
    var imdsDeadline: Double = IMDSConfiguration.defaultDeadlineSeconds

    /// The flags' values.
    var values: IMDSAccess { IMDSAccess(endpoint: imdsEndpoint, deadlineSeconds: imdsDeadline) }

    func validate() throws {
        if let problem = values.problem { throw ValidationError(problem) }
    }
}
