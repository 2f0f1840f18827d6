extension Plan {
    /// The plan of one ENI, named by its link name, MAC or ENI id (`plan ens6`,
    /// `explain ens6`); nil when no configured ENI has that name. The main-table rules
    /// stay: they route that ENI's traffic too.
    public func only(_ name: String) -> Plan? {
        let chosen = interfaces.filter { $0.linkName == name || $0.interfaceID == name || MACAddress(name) == $0.mac }
        guard !chosen.isEmpty else { return nil }
        var result = Plan(instanceID: instanceID, interfaces: chosen, mainRules: mainRules, skipped: [])
        result.imdsNetworking = imdsNetworking
        return result
    }
}
