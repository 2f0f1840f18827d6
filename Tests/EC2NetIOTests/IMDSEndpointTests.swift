import EC2NetCore
import EC2NetIO
import Testing

/// Which IMDS endpoint a run uses, and when the IPv6 one stands by for an instance
/// without IPv4 (the fallback itself runs in the scenario V6-first-apply).
struct IMDSEndpointTests {
    @Test("nothing chosen: IPv4, with the IPv6 endpoint as the fallback when IPv4 has no route")
    func defaultFallsBack() throws {
        let configuration = try IMDSConfiguration.resolve(flag: nil, environment: [:], settings: ServiceSettings())
        #expect(configuration.endpoint == IMDSConfiguration.ipv4Endpoint)
        #expect(configuration.fallbackEndpoint == IMDSConfiguration.ipv6Endpoint)
        #expect(configuration.chosenBy == nil)
    }

    @Test("a chosen endpoint has no fallback: the flag, the SDK variables, either mode", arguments: [
        (String?.some("http://127.0.0.1:8080"), [String: String]()),
        (nil, ["AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://[fd00:ec2::254]"]),
        (nil, ["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv4"]),
        (nil, ["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv6"]),
    ])
    func chosenHasNoFallback(override: String?, environment: [String: String]) throws {
        let configuration = try IMDSConfiguration.resolve(flag: override, environment: environment, settings: ServiceSettings())
        #expect(configuration.fallbackEndpoint == nil, "\(override ?? "") \(environment)")
        #expect(configuration.chosenBy == (override == nil ? environment.keys.first : "--imds-endpoint"))
    }

    @Test("the order: flag, then the SDK's endpoint, then the configuration's, then the SDK's mode, then the configuration's")
    func order() throws {
        var settings = ServiceSettings()
        settings.imdsEndpoint = "http://127.0.0.2:8080"
        settings.imdsEndpointMode = "IPv6"
        let sdk = [IMDSConfiguration.endpointVariable: "http://127.0.0.3"]
        #expect(try IMDSConfiguration.resolve(flag: "http://127.0.0.1", environment: sdk, settings: settings).endpoint.host == "127.0.0.1")
        #expect(try IMDSConfiguration.resolve(flag: nil, environment: sdk, settings: settings).endpoint.host == "127.0.0.3")
        let mode = [IMDSConfiguration.modeVariable: "IPv4"]
        #expect(try IMDSConfiguration.resolve(flag: nil, environment: mode, settings: settings).endpoint.host == "127.0.0.2")
        settings.imdsEndpoint = nil
        #expect(try IMDSConfiguration.resolve(flag: nil, environment: mode, settings: settings).endpoint == IMDSConfiguration.ipv4Endpoint)
        #expect(try IMDSConfiguration.resolve(flag: nil, environment: [:], settings: settings).endpoint == IMDSConfiguration.ipv6Endpoint)
        #expect(throws: IOError.disabledByEnvironment) {
            try IMDSConfiguration.resolve(flag: nil, environment: [IMDSConfiguration.disabledVariable: "true"], settings: settings)
        }
    }

    @Test("a bad value is refused under the name of where it came from")
    func culprit() throws {
        var settings = ServiceSettings()
        settings.imdsEndpoint = "http://metadata.internal"
        settings.imdsEndpointOrigin = "/etc/ec2-netgen/ec2-netgen.conf:3: [IMDS] Endpoint="
        #expect(throws: IOError.invalidEndpoint(source: "/etc/ec2-netgen/ec2-netgen.conf:3: [IMDS] Endpoint=",
                                                value: "http://metadata.internal")) {
            try IMDSConfiguration.resolve(flag: nil, environment: [:], settings: settings)
        }
        #expect(throws: IOError.invalidEndpoint(source: IMDSConfiguration.endpointVariable, value: "ftp://x")) {
            try IMDSConfiguration.resolve(flag: nil, environment: [IMDSConfiguration.endpointVariable: "ftp://x"], settings: settings)
        }
        #expect(throws: IOError.invalidEndpointMode(source: IMDSConfiguration.modeVariable, value: "IPv5")) {
            try IMDSConfiguration.resolve(flag: nil, environment: [IMDSConfiguration.modeVariable: "IPv5"], settings: ServiceSettings())
        }
        #expect(throws: IOError.invalidEndpoint(source: "--imds-endpoint", value: "https://169.254.169.254")) {
            try IMDSConfiguration.resolve(flag: "https://169.254.169.254", environment: [:], settings: settings)
        }
    }
}
