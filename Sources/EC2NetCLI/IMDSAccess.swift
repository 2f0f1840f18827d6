import EC2NetCore
import EC2NetHTTP
import EC2NetIO
import EC2NetOps
import Glibc

/// How to reach IMDS, as plain values: what `IMDSOptions` declares as flags, and what the
/// boot path's parser fills in directly.
struct IMDSAccess: Equatable {
    /// `--imds-endpoint URL`.
    var endpoint: String?
    /// `--imds-deadline SECONDS`.
    var deadlineSeconds: Double = IMDSConfiguration.defaultDeadlineSeconds

    /// Why these values are refused, or nil.
    var problem: String? {
        guard deadlineSeconds > 0, deadlineSeconds <= 600 else { return "--imds-deadline must be more than 0 and at most 600 seconds" }
        if let endpoint, HTTPEndpoint(url: endpoint) == nil {
            return "--imds-endpoint: \(endpoint) is not an http://ADDRESS[:PORT] URL with a literal IPv4 or [IPv6] address"
        }
        return nil
    }

    /// A client for the configured endpoint: the flag, else the AWS SDK variables, else
    /// `[IMDS]` of the configuration files; paced and spread as `prepare` decides.
    func client(settings: ServiceSettings = ServiceSettings(), imdsNetworking: IMDSNetworking, root: String = "/",
                links: [Link] = []) throws -> IMDSClient {
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
        var configuration = try IMDSConfiguration.resolve(override: endpoint, environment: environment)
        configuration.deadlineSeconds = deadlineSeconds
        return IMDSClient(configuration: prepare(configuration, root: root, links: links, settings: settings,
                                                    imdsNetworking: imdsNetworking))
    }
}
