import EC2NetCore
import Glibc

extension IMDSClient {
    /// What is still missing from a MAC's record, or nil when it is complete: listed,
    /// with a device number that is not 0 on card 0 unless it is the primary, and with a
    /// network card when the primary has one (docs/design.md).
    public func missingPart(of mac: MACAddress) throws(IOError) -> String? {
        let connection = makeConnection()
        guard let listing = try get(Self.macsPath, on: connection, allowMissing: true) else { return "macs/ is empty" }
        guard let key = try listedMACs(listing).first(where: { MACAddress($0) == mac }) else { return "MAC not listed yet" }
        let entries = Set((try get(Self.macsPath + key + "/", on: connection) ?? "").split(separator: "\n").map(String.init))
        guard entries.contains("device-number"),
              let deviceText = try get(Self.macsPath + key + "/device-number", on: connection) else {
            return "device-number not listed yet"
        }
        let primaryText = try get("meta-data/mac", on: connection) ?? ""
        let isPrimary = MACAddress(primaryText) == mac
        var card = 0
        if entries.contains("network-card") {
            card = Int(try get(Self.macsPath + key + "/network-card", on: connection) ?? "") ?? 0
        } else if !isPrimary, let primaryKey = try listedMACs(listing).first(where: { MACAddress($0) == MACAddress(primaryText) }) {
            let primaryEntries = (try get(Self.macsPath + primaryKey + "/", on: connection) ?? "").split(separator: "\n")
            if primaryEntries.contains("network-card") { return "network-card not listed yet" }
        }
        if !isPrimary && card == 0 && deviceText == "0" { return "device-number reads 0" }
        return nil
    }

    /// Polls until `mac` is complete, with backoff from 100 ms doubling to 1 s, for at most
    /// `timeoutSeconds`. A poll costs 3–5 small requests; the 1 s cap keeps an attach that
    /// IMDS describes after 2 s configured within about 2.5 s.
    public func waitUntilComplete(_ mac: MACAddress, link: String, timeoutSeconds: Double) throws(IOError) {
        let clock = ContinuousClock()
        let start = clock.now
        var delay = 0.1
        while true {
            guard let missing = try missingPart(of: mac) else { return }
            let elapsed = clock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            guard seconds + delay <= timeoutSeconds else {
                throw .waitTimedOut(link: link, mac: mac.description, seconds: seconds, reason: missing)
            }
            usleep(useconds_t(delay * 1_000_000))
            delay = min(1, delay * 2)
        }
    }
}
