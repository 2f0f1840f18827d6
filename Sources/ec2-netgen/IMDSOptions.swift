import ArgumentParser
import EC2NetCore
import EC2NetHTTP
import EC2NetIO
import EC2NetOps
import Glibc

/// How to reach IMDS; shared by every command that may read it.
struct IMDSOptions: ParsableArguments {
    @Option(help: ArgumentHelp("IMDS base URL (default: AWS_EC2_METADATA_SERVICE_ENDPOINT[_MODE], else http://169.254.169.254).",
                               valueName: "URL"))
    var imdsEndpoint: String?

    // Unconditional, so a negative number is read as a value and refused by validate(),
    // not taken for a flag ("Missing value").
    @Option(parsing: .unconditional, help: ArgumentHelp("Give up retrying IMDS after this many seconds (more than 0, at most 600).", valueName: "SECONDS"))
    var imdsDeadline: Double = 15

    func validate() throws {
        guard imdsDeadline > 0, imdsDeadline <= 600 else { throw ValidationError("--imds-deadline must be more than 0 and at most 600 seconds") }
        if let imdsEndpoint, HTTPEndpoint(url: imdsEndpoint) == nil {
            throw ValidationError("--imds-endpoint: \(imdsEndpoint) is not an http://ADDRESS[:PORT] URL with a literal IPv4 or [IPv6] address")
        }
    }

    /// A client for the configured endpoint: the flag, else the AWS SDK variables, else
    /// `[IMDS]` of the configuration files; paced and spread as `prepare` decides.
    func client(settings: ServiceSettings = ServiceSettings(), root: String = "/", links: [Link] = []) throws -> IMDSClient {
        var environment: [String: String] = [:]
        for name in ["AWS_EC2_METADATA_DISABLED", "AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"] {
            if let value = getenv(name) { environment[name] = String(cString: value) }
        }
        if environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] == nil, let endpoint = settings.imdsEndpoint {
            environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = endpoint
        }
        if environment["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"] == nil, let mode = settings.imdsEndpointMode {
            environment["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"] = mode
        }
        var configuration = try IMDSConfiguration.resolve(override: imdsEndpoint, environment: environment)
        configuration.deadlineSeconds = imdsDeadline
        return IMDSClient(configuration: prepare(configuration, root: root, links: links, settings: settings))
    }
}
