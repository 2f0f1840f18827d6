import EC2NetCore
import EC2NetFS
import EC2NetIO

/// How this machine's IMDS traffic is spread and paced (docs/decisions.md, "Staying inside
/// EC2's IMDS budget"): budgets shared under `root`, every ENI link a candidate for
/// default-route requests, the primary's link (named by the cache) for requests about no
/// one ENI, per-ENI sources unless the configuration turns them off, and systemd-imdsd's
/// mark where systemd-imds locks IMDS (the only way through). Unlocked, requests stay
/// unmarked: the daemon's table routes IPv6 IMDS on-link, and whether EC2 answers
/// neighbour discovery for it there is not known; the plain routes reach it through the
/// router (docs/decisions.md, systemd-imds).
public func prepare(_ base: IMDSConfiguration, root: String, links: [Link], settings: ServiceSettings,
                    imdsNetworking: IMDSNetworking) -> IMDSConfiguration {
    var configuration = base
    if imdsNetworking == .locked { configuration.firewallMark = RoutingNumbers.imdsMark }
    configuration.budgetDirectory = RuntimeDirectory.path(root: root)
    configuration.sendFromOwnENI = configuration.sendFromOwnENI && settings.sendFromOwnInterface
    configuration.useSystemdService = settings.useSystemdIMDS
    let enaLinks = links.filter { Link.enaDrivers.contains($0.driver) }
    let candidates = enaLinks.isEmpty ? links.filter { $0.mac.octets.contains { $0 != 0 } } : enaLinks
    configuration.candidateLinks = Array(Set(candidates.map(\.name))).sorted()
    if let previous = cachedDocument(MetadataCache(root: root)),
       case .object(let metaData)? = previous.root["meta-data"], case .string(let text)? = metaData["mac"],
       let primary = MACAddress(text) {
        configuration.defaultSource = enaLink(for: primary, in: links)?.name
    }
    return configuration
}

/// The reader a run uses (`IMDSReadPath.decide`): systemd's IMDS service where the
/// configuration asks for it, it listens under `root` and nothing chose the endpoint, with
/// the own client behind it; else the own client. Both are paced and spread by
/// `configuration` (see `prepare`).
public func metadataReader(_ configuration: IMDSConfiguration, root: String) -> MetadataReader {
    let own = IMDSClient(configuration: configuration)
    let socket = SystemdIMDSState.serviceSocket(root: root)
    switch (IMDSReadPath.decide(requested: configuration.useSystemdService, endpointChosenBy: configuration.chosenBy,
                                serviceListening: socket != nil), socket) {
    case (.systemdService, let socket?):
        return FallbackReader(preferred: SystemdIMDSClient(socket: socket, configuration: configuration), fallback: own)
    default:
        return own
    }
}
