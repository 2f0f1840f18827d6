import EC2NetIO
import Testing

/// The endpoint when nothing names one: IPv4, unless IPv4 has no route to IMDS.
@Suite struct EndpointChoiceTests {
    @Test("no IPv4 route to 169.254.169.254 picks the IPv6 endpoint; a named endpoint or mode still wins")
    func ipv6WhenIPv4Unreachable() throws {
        #expect(try IMDSConfiguration.resolve(override: nil, environment: [:], ipv4Reachable: { false }).endpoint.description
            == "http://[fd00:ec2::254]")
        #expect(try IMDSConfiguration.resolve(override: nil, environment: [:], ipv4Reachable: { true }).endpoint.description
            == "http://169.254.169.254")
        #expect(try IMDSConfiguration.resolve(override: nil, environment: ["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": "IPv4"],
                                              ipv4Reachable: { false }).endpoint.description == "http://169.254.169.254")
        #expect(try IMDSConfiguration.resolve(override: "http://127.0.0.1:8080", environment: [:],
                                              ipv4Reachable: { false }).endpoint.description == "http://127.0.0.1:8080")
    }
}
