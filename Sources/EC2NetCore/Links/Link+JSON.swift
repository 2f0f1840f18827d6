extension Link {
    /// Parses a links file: a JSON array of `{"name","mac","driver","index"}` objects
    /// (plus optional `"managed-by"`), the stand-in for sysfs in tests and support cases.
    public static func parseList(_ bytes: some Collection<UInt8>, source: String) throws(InputError) -> [Link] {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw .invalidJSON(source: source, offset: error.offset, reason: error.reason)
        }
        guard case .array(let entries) = value else {
            throw .invalidLink(entry: 0, field: "document", value: "not a JSON array")
        }
        var links: [Link] = []
        for (index, entry) in entries.enumerated() {
            guard case .object(let fields) = entry else {
                throw .invalidLink(entry: index, field: "entry", value: "not an object")
            }
            guard let name = fields["name"]?.string, isValidName(name) else {
                throw .invalidLink(entry: index, field: "name", value: fields["name"]?.string ?? "")
            }
            guard let macText = fields["mac"]?.string, let mac = MACAddress(macText) else {
                throw .invalidLink(entry: index, field: "mac", value: fields["mac"]?.string ?? "")
            }
            let driver = fields["driver"]?.string ?? ""
            guard driver.utf8.count <= 64, driver.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
                throw .invalidLink(entry: index, field: "driver", value: driver)
            }
            guard let ifindex = fields["index"]?.integer, ifindex > 0 else {
                throw .invalidLink(entry: index, field: "index", value: "\(fields["index"].map { "\($0)" } ?? "")")
            }
            links.append(Link(name: name, mac: mac, driver: driver, index: ifindex,
                              managedBy: fields["managed-by"]?.string))
        }
        return links
    }
}
