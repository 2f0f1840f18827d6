import EC2NetCore
import EC2NetHTTP

/// Where and how patiently to talk to IMDS.
public struct IMDSConfiguration: Sendable {
    /// The service's address.
    public var endpoint: HTTPEndpoint
    /// Total time one run may spend retrying a request before giving up.
    public var deadlineSeconds: Double = IMDSConfiguration.defaultDeadlineSeconds
    /// The deadline when none is given (`--imds-deadline`'s default).
    public static let defaultDeadlineSeconds: Double = 15
    /// Connections open at once. EC2 limits simultaneous IMDS connections per instance
    /// (no number is published); 4 hides the latency of a link-local round trip, and
    /// pacing, not parallelism, bounds the packet rate.
    public var parallelism = 4
    /// Packets per second the client allows itself per ENI: under half of EC2's 1024 for
    /// all link-local services, so DNS and NTP keep the rest.
    public var packetsPerSecond: Double = 472
    /// Packets the client may send back to back per ENI: less than a policer's burst of
    /// 50, so a DNS query fits beside it. With `packetsPerSecond` it keeps any one second
    /// at 512 packets or fewer (see PacketBudget).
    public var packetBurst: Double = 40
    /// Packets one request costs the sender. EC2 closes every connection, so a request is
    /// SYN, ACK, the request, ACKs of the answer and of the server's FIN, and the
    /// client's FIN: about six.
    public var packetsPerRequest: Double = 6
    /// Send requests about an ENI through that ENI (SO_BINDTODEVICE), so each ENI's own
    /// budget carries them. Only for EC2's link-local endpoints: an overridden endpoint
    /// (a test server, a proxy host) is reached the way the routing table says.
    public var sendFromOwnENI: Bool
    /// The link that carries requests about no one ENI (the token, the MAC listing, the
    /// wait for a new ENI): the primary's, once a cache names it. Without it they take the
    /// default route, which at first boot can be any ENI that got DHCP first.
    public var defaultSource: String?
    /// The links a request sent the default way may leave through (every ENI's link;
    /// which one the default route picks is the kernel's choice, and at first boot any ENI
    /// that got DHCP first may carry it). Such a request is charged to each of their
    /// budgets, so whichever link carries it stays inside its budget.
    public var candidateLinks: [String] = []
    /// Where the packet budgets shared by all ec2-netgen processes live
    /// (`ROOT/run/ec2-netgen`); nil gives each process its own.
    public var budgetDirectory: String?
    /// Tried when `endpoint` has no route at all (connect() fails with ENETUNREACH before a
    /// packet leaves): the IPv6 endpoint, for an instance without IPv4. Set only when
    /// nothing chose the endpoint (no flag, no AWS SDK variable, no `[IMDS]` setting).
    public var fallbackEndpoint: HTTPEndpoint?
    /// What chose the endpoint (the flag, a variable, a configuration line), or nil for
    /// EC2's default. A chosen endpoint is read by the own client only.
    public var chosenBy: String?
    /// `[IMDS] UseSystemdIMDS=`: read through systemd's IMDS service where it listens.
    public var useSystemdService = false
    /// SO_MARK of every request's socket: systemd-imdsd's mark where systemd-imds sets up
    /// IMDS networking, so ec2-netgen reaches IMDS through the daemon's table and past
    /// its lock, as the daemon does (IMDSNetworking).
    public var firewallMark: UInt32?
    /// Session token lifetime asked for.
    public var tokenTTLSeconds = 21600
    /// Largest body accepted; IMDS values are a few KiB at most.
    public var bodyLimit = 256 * 1024
    /// connect() bound of a first attempt, doubled per retry up to 2 s. IMDS answers a
    /// SYN in well under a millisecond; the kernel's own SYN retransmission comes only
    /// after 1 s, so a lost SYN would otherwise cost a whole second.
    public var connectTimeoutMilliseconds: Int32 = 250
    /// Bound on each wait for response bytes.
    public var readTimeoutMilliseconds: Int32 = 2000

    /// The IPv4 endpoint (default).
    public static let ipv4Endpoint = HTTPEndpoint(host: "169.254.169.254", port: 80, isIPv6: false)
    /// The IPv6 endpoint (Nitro instances with IPv6 IMDS enabled).
    public static let ipv6Endpoint = HTTPEndpoint(host: "fd00:ec2::254", port: 80, isIPv6: true)

    /// Creates a configuration for an endpoint.
    public init(endpoint: HTTPEndpoint) {
        self.endpoint = endpoint
        sendFromOwnENI = endpoint == Self.ipv4Endpoint || endpoint == Self.ipv6Endpoint
    }

    /// The variables of the AWS SDKs that choose the endpoint, as they spell them.
    public static let disabledVariable = "AWS_EC2_METADATA_DISABLED"
    public static let endpointVariable = "AWS_EC2_METADATA_SERVICE_ENDPOINT"
    public static let modeVariable = "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"

    /// Chooses the endpoint, the one place that does. The first of these that is set wins:
    /// `--imds-endpoint`; `AWS_EC2_METADATA_DISABLED=true` (refuses); the endpoint of the
    /// AWS SDK variable, then of `[IMDS] Endpoint=`; the mode of the variable, then of
    /// `[IMDS] EndpointMode=`. With none of them: IPv4, with the IPv6 endpoint as the
    /// fallback when IPv4 has no route (an IPv6-only instance). A bad value is refused
    /// under the name of where it came from.
    public static func resolve(flag: String?, environment: [String: String],
                               settings: ServiceSettings) throws(IOError) -> IMDSConfiguration {
        func chosen(_ url: String, by source: String) throws(IOError) -> IMDSConfiguration {
            var configuration = IMDSConfiguration(endpoint: try endpoint(url, from: source))
            configuration.chosenBy = source
            return configuration
        }
        if let flag { return try chosen(flag, by: "--imds-endpoint") }
        if environment[disabledVariable]?.lowercased() == "true" { throw .disabledByEnvironment }
        if let url = environment[endpointVariable], !url.isEmpty { return try chosen(url, by: endpointVariable) }
        if let url = settings.imdsEndpoint { return try chosen(url, by: settings.imdsEndpointOrigin ?? "[IMDS] Endpoint=") }
        let mode = environment[modeVariable].map { (value: $0, source: modeVariable) }
            ?? settings.imdsEndpointMode.map { (value: $0, source: settings.imdsEndpointModeOrigin ?? "[IMDS] EndpointMode=") }
        guard let mode else {
            var configuration = IMDSConfiguration(endpoint: ipv4Endpoint)
            configuration.fallbackEndpoint = ipv6Endpoint
            return configuration
        }
        var configuration: IMDSConfiguration
        switch mode.value.lowercased() {
        case "ipv4", "": configuration = IMDSConfiguration(endpoint: ipv4Endpoint)
        case "ipv6": configuration = IMDSConfiguration(endpoint: ipv6Endpoint)
        default: throw .invalidEndpointMode(source: mode.source, value: mode.value)
        }
        configuration.chosenBy = mode.source
        return configuration
    }

    /// An endpoint URL, or the error naming `source`: the one check of a URL's form.
    public static func endpoint(_ url: String, from source: String) throws(IOError) -> HTTPEndpoint {
        guard let endpoint = HTTPEndpoint(url: url) else { throw .invalidEndpoint(source: source, value: url) }
        return endpoint
    }
}
