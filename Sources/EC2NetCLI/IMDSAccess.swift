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
        if let endpoint {
            do { _ = try IMDSConfiguration.endpoint(endpoint, from: "--imds-endpoint") } catch { return error.description }
        }
        return nil
    }

    /// A reader for the endpoint `IMDSConfiguration.resolve` chooses from the flag, the
    /// AWS SDK variables and `[IMDS]` of the configuration files, through systemd's IMDS
    /// service where `metadataReader` picks it; paced and spread as `prepare` decides.
    func client(settings: ServiceSettings = ServiceSettings(), imdsNetworking: IMDSNetworking, root: String = "/",
                links: [Link] = []) throws -> MetadataReader {
        var environment: [String: String] = [:]
        for name in [IMDSConfiguration.disabledVariable, IMDSConfiguration.endpointVariable, IMDSConfiguration.modeVariable] {
            if let value = getenv(name) { environment[name] = String(cString: value) }
        }
        var configuration = try IMDSConfiguration.resolve(flag: endpoint, environment: environment, settings: settings)
        configuration.deadlineSeconds = deadlineSeconds
        return metadataReader(prepare(configuration, root: root, links: links, settings: settings,
                                      imdsNetworking: imdsNetworking), root: root)
    }
}
