import EC2NetIO
import Testing

/// Which IMDS endpoint a run uses, and when the IPv6 one stands by for an instance
/// without IPv4 (the fallback itself runs in the scenario V6-first-apply).
struct IMDSEndpointTests {
    @Test("nothing chosen: IPv4, with the IPv6 endpoint as the fallback when IPv4 has no route")
    func defaultFallsBack() throws {
        let configuration = try IMDSConfiguration.resolve(override: nil, environment: [:])
        #expect(configuration.endpoint == IMDSConfiguration.ipv4Endpoint)
        #expect(configuration.fallbackEndpoint == IMDSConfiguration.ipv6Endpoint)
    }

    @Test("a chosen endpoint has no fallback: the flag, the SDK variables, either mode", arguments: [
        (String?.some("http://127.0.0.1:8080"), [String: String]()),
        (nil, ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://[fd00:ec2::254]"]),
        (nil, ["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv4"]),
        (nil, ["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv6"]),
    ])
    func chosenHasNoFallback(override: String?, environment: [String: String]) throws {
        let configuration = try IMDSConfiguration.resolve(override: override, environment: environment)
        #expect(configuration.fallbackEndpoint == nil, "\(override ?? "") \(environment)")
    }
}
