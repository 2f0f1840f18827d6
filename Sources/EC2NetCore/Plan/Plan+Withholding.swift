extension Plan {
    /// The plan with the given static addresses left out of their ENIs and everything
    /// else kept, their rules included: what is written first when an apply brings an
    /// address onto a link, so that its rules and table are in place before it
    /// (AddressStaging.swift). ENIs not named keep every address.
    public func withholding(_ addresses: [MACAddress: Set<IPPrefix>]) -> Plan {
        var result = self
        for index in result.interfaces.indices {
            guard let withheld = addresses[result.interfaces[index].mac] else { continue }
            result.interfaces[index].addresses.removeAll(where: withheld.contains)
        }
        return result
    }
}
