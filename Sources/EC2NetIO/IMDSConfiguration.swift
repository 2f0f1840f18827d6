import EC2NetHTTP

/// Where and how patiently to talk to IMDS.
public struct IMDSConfiguration: Sendable {
    /// The service's address.
    public var endpoint: HTTPEndpoint
    /// Total time one run may spend retrying a request before giving up.
    public var deadlineSeconds: Double = 15
    /// Requests in flight at once: IMDS throttles per ENI (about 1024 packets/s), and 8
    /// keeps a 16-ENI fetch well under that while hiding most of the latency.
    public var parallelism = 8
    /// Session token lifetime asked for.
    public var tokenTTLSeconds = 21600
    /// Largest body accepted; IMDS values are a few KiB at most.
    public var bodyLimit = 256 * 1024
    /// connect() bound per attempt.
    public var connectTimeoutMilliseconds: Int32 = 1000
    /// Bound on each wait for response bytes.
    public var readTimeoutMilliseconds: Int32 = 2000

    /// The IPv4 endpoint (default).
    public static let ipv4Endpoint = HTTPEndpoint(host: "169.254.169.254", port: 80, isIPv6: false)
    /// The IPv6 endpoint (Nitro instances with IPv6 IMDS enabled).
    public static let ipv6Endpoint = HTTPEndpoint(host: "fd00:ec2::254", port: 80, isIPv6: true)

    /// Creates a configuration for an endpoint.
    public init(endpoint: HTTPEndpoint) { self.endpoint = endpoint }

    /// Chooses the endpoint as the AWS SDKs do: `--imds-endpoint` overrides everything,
    /// else `AWS_EC2_METADATA_DISABLED=true` refuses, else
    /// `AWS_EC2_METADATA_SERVICE_ENDPOINT`, else `…_ENDPOINT_MODE` (IPv4 default, IPv6).
    public static func resolve(override: String?, environment: [String: String]) throws(IOError) -> IMDSConfiguration {
        if let override {
            guard let endpoint = HTTPEndpoint(url: override) else {
                throw .invalidEndpoint(source: "--imds-endpoint", value: override)
            }
            return IMDSConfiguration(endpoint: endpoint)
        }
        if environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() == "true" { throw .disabledByEnvironment }
        if let url = environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"], !url.isEmpty {
            guard let endpoint = HTTPEndpoint(url: url) else {
                throw .invalidEndpoint(source: "AWS_EC2_METADATA_SERVICE_ENDPOINT", value: url)
            }
            return IMDSConfiguration(endpoint: endpoint)
        }
        let mode = environment["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"] ?? "IPv4"
        switch mode.lowercased() {
        case "ipv4", "": return IMDSConfiguration(endpoint: ipv4Endpoint)
        case "ipv6": return IMDSConfiguration(endpoint: ipv6Endpoint)
        default: throw .invalidEndpoint(source: "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", value: mode)
        }
    }
}
