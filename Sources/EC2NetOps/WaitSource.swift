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
public func waitSource(_ reader: MetadataReader, link: Link, timeoutSeconds: Double, root: String,
                       clock: WaitClock = SystemClock()) throws -> (MetadataSource, warning: String?) {
    do {
        try waitUntilComplete(reader, mac: link.mac, link: link.name, timeoutSeconds: timeoutSeconds, clock: clock)
        return (.imds(reader, attached: link.mac), nil)
    } catch {
        guard error.imdsUnreachable, let cached = cachedDocument(MetadataCache(root: root)),
              cacheDescribesWhole(cached, mac: link.mac) else { throw error }
        return (.cache, "\(error); \(link.name) keeps its cached configuration until IMDS answers again")
    }
}

/// How long `--wait-for` waits for IMDS to describe an attached ENI whole, unless told.
public let defaultWaitTimeoutSeconds: Double = 60

/// Polls until `mac` is complete, with backoff from 100 ms doubling to 1 s, for at most
/// `timeoutSeconds`. A poll costs 3–5 small requests; the 1 s cap keeps an attach that
/// IMDS describes after 2 s configured within about 2.5 s.
func waitUntilComplete(_ reader: MetadataReader, mac: MACAddress, link: String, timeoutSeconds: Double,
                       clock: WaitClock) throws(IOError) {
    let start = clock.now()
    var delay = Duration.milliseconds(100)
    let timeout = Duration.milliseconds(Int64(timeoutSeconds * 1000))
    while true {
        guard let missing = try reader.missingPart(of: mac) else { return }
        let elapsed = clock.now() - start
        guard elapsed + delay <= timeout else {
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            throw .waitTimedOut(link: link, mac: mac.description, seconds: seconds, reason: missing)
        }
        clock.sleep(delay)
        delay = min(.seconds(1), delay * 2)
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
