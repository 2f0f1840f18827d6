import ArgumentParser
import EC2NetCore
import EC2NetIO
import Glibc

/// How to reach IMDS; shared by every command that may read it.
struct IMDSOptions: ParsableArguments {
    @Option(help: ArgumentHelp("IMDS base URL (default: AWS_EC2_METADATA_SERVICE_ENDPOINT[_MODE], else http://169.254.169.254).",
                               valueName: "URL"))
    var imdsEndpoint: String?

    @Option(help: ArgumentHelp("Give up retrying IMDS after this many seconds.", valueName: "SECONDS"))
    var imdsDeadline: Double = 15

    func validate() throws {
        guard imdsDeadline > 0, imdsDeadline <= 600 else { throw ValidationError("--imds-deadline must be between 0 and 600 seconds") }
    }

    /// A client for the configured endpoint: the flag, else the AWS SDK variables, else
    /// `[IMDS]` of the configuration files. Its packet budgets are shared with every other
    /// ec2-netgen process under `root`.
    func client(settings: ServiceSettings = ServiceSettings(), root: String = "/", previous: MetadataDocument? = nil,
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
        var configuration = try IMDSConfiguration.resolve(override: imdsEndpoint, environment: environment)
        configuration.deadlineSeconds = imdsDeadline
        configuration.sendFromOwnENI = configuration.sendFromOwnENI && settings.sendFromOwnInterface
        configuration.budgetDirectory = (root == "/" ? "" : root) + "/run/ec2-netgen"
        let enaLinks = links.filter { Link.enaDrivers.contains($0.driver) }
        configuration.candidateLinks = Array(Set((enaLinks.isEmpty ? links.filter { $0.mac.octets.contains { $0 != 0 } } : enaLinks).map(\.name))).sorted()
        if case .object(let metaData)? = previous?.root["meta-data"], case .string(let text)? = metaData["mac"],
           let primary = MACAddress(text) {
            configuration.defaultSource = enaLink(for: primary, in: links)?.name
        }
        return IMDSClient(configuration: configuration)
    }

    /// Reads the live document; a document IMDS served that does not parse is a runtime
    /// failure of the service (exit 1), not bad user input.
    static func fetch(with client: IMDSClient, previous: MetadataDocument? = nil, only: MACAddress? = nil,
                      links: [Link] = []) throws -> (MetadataDocument, Instance) {
        var sourceLinks: [MACAddress: String] = [:]
        for link in links where sourceLinks[link.mac] == nil {
            sourceLinks[link.mac] = enaLink(for: link.mac, in: links)?.name
        }
        let document = try client.fetchDocument(previous: previous, only: only, sourceLinks: sourceLinks)
        do {
            return (document, try EC2NetCore.parse(document))
        } catch {
            throw Failure.runtime("IMDS \(client.configuration.endpoint) returned unusable metadata: \(error)")
        }
    }

    /// One line for the report: what the IMDS read cost.
    static func summary(_ client: IMDSClient, milliseconds: Int) -> String {
        "imds: \(client.requestCount) requests, \(client.retryCount) retries, \(milliseconds) ms, budget waits \(client.pacedMilliseconds) ms (\(client.configuration.endpoint))"
    }
}

/// Milliseconds since `start`.
func millisecondsSince(_ start: ContinuousClock.Instant) -> Int {
    let elapsed = ContinuousClock.now - start
    return Int(elapsed.components.seconds * 1000) + Int(elapsed.components.attoseconds / 1_000_000_000_000_000)
}
