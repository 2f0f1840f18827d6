extension Link {
    /// Parses a links file: a JSON array of `{"name","mac","driver","index"}` objects
    /// (plus optional `"managed-by"`), the stand-in for sysfs in tests and support cases.
    /// Errors name the file and the entry, counted from 1 as a person counts them. Two
    /// entries may share a MAC (a VLAN or bond on an ENI does), but not a name, an
    /// ifindex, or a MAC with two ENA-family drivers: then which link is the ENI is
    /// ambiguous.
    public static func parseList(_ bytes: some Collection<UInt8>, source: String) throws(InputError) -> [Link] {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw .invalidJSON(source: source, offset: error.offset, reason: error.reason)
        }
        guard case .array(let entries) = value else {
            throw .invalidLink(source: source, entry: 0, field: "document", problem: "is not a JSON array")
        }
        var links: [Link] = []
        for (offset, entry) in entries.enumerated() {
            let number = offset + 1
            func bad(_ field: String, _ problem: String) -> InputError {
                .invalidLink(source: source, entry: number, field: field, problem: problem)
            }
            guard case .object(let fields) = entry else { throw bad("entry", "is not a JSON object") }
            func text(_ field: String) throws(InputError) -> String {
                switch fields[field] {
                case nil: throw bad(field, "is missing")
                case .string(let value)?: return value
                case let other?: throw bad(field, "is \(MetadataDocument.kind(of: other)), not a string")
                }
            }
            let name = try text("name")
            guard isValidName(name) else { throw bad("name", "\(quoted(name)) is not an interface name") }
            let macText = try text("mac")
            guard let mac = MACAddress(macText) else { throw bad("mac", "\(quoted(macText)) is not a MAC address") }
            let driver = fields["driver"] == nil ? "" : try text("driver")
            guard driver.utf8.count <= 64, driver.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
                throw bad("driver", "\(quoted(driver)) is not a driver name")
            }
            guard let indexValue = fields["index"] else { throw bad("index", "is missing") }
            guard let ifindex = indexValue.integer, ifindex > 0 else {
                throw bad("index", "\(indexValue.string.map(quoted) ?? MetadataDocument.kind(of: indexValue)) is not a positive integer")
            }
            if let other = links.first(where: { $0.name == name }) {
                throw bad("name", "\(name) is also entry \(links.firstIndex(of: other).map { $0 + 1 } ?? 0)")
            }
            if links.contains(where: { $0.index == ifindex }) { throw bad("index", "\(ifindex) is used twice") }
            if enaDrivers.contains(driver), links.contains(where: { $0.mac == mac && enaDrivers.contains($0.driver) }) {
                throw bad("mac", "\(mac) is on two ENA-family links")
            }
            links.append(Link(name: name, mac: mac, driver: driver, index: ifindex,
                              managedBy: fields["managed-by"]?.string))
        }
        return links
    }
}

extension Link {
    /// Links in the links-file format `parseList` reads back (`ec2-netgen links`), so the
    /// links of a support case can be replayed anywhere with `--links`.
    public static func listJSON(_ links: [Link]) -> JSONValue {
        .array(links.map { link in
            var object: [String: JSONValue] = [
                "name": .string(link.name), "mac": .string(link.mac.description),
                "driver": .string(link.driver), "index": .number(String(link.index)),
            ]
            if let manager = link.managedBy { object["managed-by"] = .string(manager) }
            return .object(object)
        })
    }
}
