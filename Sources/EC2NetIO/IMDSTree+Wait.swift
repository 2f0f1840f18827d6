import EC2NetCore

extension IMDSTree {
    /// What is still missing from a MAC's record, or nil when it is complete: listed, with
    /// a device number, and past the IMDS-lag rule of the core (`lagSymptom`, the same the
    /// planner applies). Values go through the core's number parser; a value that does
    /// not parse counts as not there yet, and the full read after the wait names it.
    func readMissingPart(of mac: MACAddress) throws(IOError) -> String? {
        let channel = makeChannel()
        guard let listing = try get(IMDSPaths.macsPath, on: channel, via: nil, allowMissing: true) else { return "macs/ is empty" }
        guard let key = try listedMACs(listing).first(where: { MACAddress($0) == mac }) else { return "MAC not listed yet" }
        let entries = Set((try get(IMDSPaths.macsPath + key + "/", on: channel, via: nil, allowMissing: false) ?? "").split(separator: "\n").map(String.init))
        guard entries.contains(InterfaceKey.deviceNumber.rawValue),
              let device = parseDecimal(try get(IMDSPaths.macsPath + key + "/" + InterfaceKey.deviceNumber.rawValue, on: channel, via: nil, allowMissing: false) ?? "", max: 99) else {
            return "device-number not listed yet"
        }
        let primary = MACAddress(try get("meta-data/mac", on: channel, via: nil, allowMissing: false) ?? "")
        let isPrimary = primary == mac
        var card: Int?
        if entries.contains(InterfaceKey.networkCard.rawValue) {
            guard let value = parseDecimal(try get(IMDSPaths.macsPath + key + "/" + InterfaceKey.networkCard.rawValue, on: channel, via: nil, allowMissing: false) ?? "", max: 99) else {
                return "network-card not readable yet"
            }
            card = value
        }
        var primaryHasCard = false
        if !isPrimary, card == nil, let primaryKey = try listedMACs(listing).first(where: { MACAddress($0) == primary }) {
            primaryHasCard = (try get(IMDSPaths.macsPath + primaryKey + "/", on: channel, via: nil, allowMissing: false) ?? "").split(separator: "\n").contains(Substring(InterfaceKey.networkCard.rawValue))
        }
        return lagSymptom(deviceNumber: device, networkCard: card, isPrimary: isPrimary, primaryHasCard: primaryHasCard)
    }
}
