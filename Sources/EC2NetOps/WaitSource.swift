import EC2NetCore
import EC2NetFS
import EC2NetIO

/// What `apply --wait-for LINK` (the `ec2-netgen@LINK` unit) applies from: IMDS, once it
/// describes the link's ENI whole; or, when IMDS cannot be reached at all and the cache
/// already describes that ENI whole, the cache, with a warning. That second case is a
/// reboot while IMDS is down: the boot unit has already rendered the cached ENIs, routing
/// is right, and a unit that keeps failing and restarting for minutes would only hold
/// `systemctl is-system-running` at "starting" and then sit in `systemctl --failed`. The
/// refresh timer reads IMDS again. IMDS that answers but still lags (an attach in
/// progress) is waited for as before, and an ENI the cache does not know fails as before.
public func waitSource(_ client: IMDSClient, link: Link, timeoutSeconds: Double, root: String) throws -> (MetadataSource, warning: String?) {
    do {
        try client.waitUntilComplete(link.mac, link: link.name, timeoutSeconds: timeoutSeconds)
        return (.imds(client, attached: link.mac), nil)
    } catch {
        guard error.imdsUnreachable, let cached = cachedDocument(MetadataCache(root: root)),
              cacheDescribesWhole(cached, mac: link.mac) else { throw error }
        return (.cache, "\(error); \(link.name) keeps its cached configuration until IMDS answers again")
    }
}

/// True when the document names the ENI with every field the planner needs and no sign of
/// attach lag.
func cacheDescribesWhole(_ document: MetadataDocument, mac: MACAddress) -> Bool {
    guard let instance = try? parse(document),
          let interface = instance.interfaces.first(where: { $0.mac == mac }) else { return false }
    let primaryHasCard = instance.interfaces.first(where: { $0.mac == instance.primaryMAC })?.networkCard != nil
    return lagSymptom(deviceNumber: interface.deviceNumber, networkCard: interface.networkCard,
                      isPrimary: interface.mac == instance.primaryMAC, primaryHasCard: primaryHasCard) == nil
}
