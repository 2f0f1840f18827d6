import EC2NetCore
import EC2NetHTTP

extension IMDSClient {
    /// The per-ENI keys the parser uses (DESIGN.md section 4). Only keys that appear in a
    /// MAC's listing are fetched, so no request is spent on a 404 for an empty list.
    public static let interfaceKeys: Set<String> = [
        "device-number", "network-card", "interface-id", "local-ipv4s", "ipv6s", "ipv4-prefix", "ipv6-prefix",
        "subnet-ipv4-cidr-block", "subnet-ipv6-cidr-blocks", "vpc-ipv4-cidr-blocks", "vpc-ipv6-cidr-blocks",
    ]

    static let macsPath = "meta-data/network/interfaces/macs/"

    /// Reads everything the planner needs into a metadata document, the same shape
    /// `--metadata` files and the cache have. Either the whole document or an error: a
    /// failure is never turned into an emptier document.
    public func fetchDocument() throws(IOError) -> MetadataDocument {
        let pool = ConnectionPool(client: self)
        // The token first, on one connection, so parallel workers share exactly one.
        _ = try currentToken(on: pool.connection(0))
        let top = try parallel(["meta-data/mac", "meta-data/instance-id", Self.macsPath], connections: pool) { path, connection throws(IOError) in
            try self.get(path, on: connection, allowMissing: path == "meta-data/instance-id")
        }
        guard let primary = top[0], let macListing = top[2] else {
            throw .malformed(endpoint: endpointText, path: "/latest/" + Self.macsPath, reason: "no MAC listed")
        }
        let macs = try listedMACs(macListing)
        let listings = try parallel(macs, connections: pool) { mac, connection throws(IOError) in
            try self.get(Self.macsPath + mac + "/", on: connection) ?? ""
        }
        var leafJobs: [String] = []
        for (mac, listing) in zip(macs, listings) {
            for entry in listing.split(separator: "\n").map(String.init) {
                if Self.interfaceKeys.contains(entry) || entry == "ipv4-associations/" {
                    leafJobs.append(Self.macsPath + mac + "/" + entry)
                }
            }
        }
        let leaves = try parallel(leafJobs, connections: pool) { path, connection throws(IOError) in
            // A listed key can vanish between listing and read (a detach racing us); that
            // is a failed read, not an empty value, so allowMissing stays false.
            try self.get(path, on: connection) ?? ""
        }
        var associationJobs: [String] = []
        for (path, body) in zip(leafJobs, leaves) where path.hasSuffix("/ipv4-associations/") {
            for line in body.split(separator: "\n") {
                let key = String(line)
                guard IPv4Address(key) != nil else {
                    throw .malformed(endpoint: endpointText, path: "/latest/" + path, reason: "listed \(quotedForMessage(key)), not an IPv4 address")
                }
                associationJobs.append(path + key)
            }
        }
        let associations = try parallel(associationJobs, connections: pool) { path, connection throws(IOError) in
            try self.get(path, on: connection) ?? ""
        }

        var macTree: [String: JSONValue] = [:]
        for mac in macs { macTree[mac] = .object([:]) }
        for (path, body) in zip(leafJobs, leaves) where !path.hasSuffix("/") {
            let parts = path.dropFirst(Self.macsPath.count).split(separator: "/")
            insert(&macTree, mac: String(parts[0]), key: String(parts[1]), value: .string(body))
        }
        for (path, body) in zip(associationJobs, associations) {
            let parts = path.dropFirst(Self.macsPath.count).split(separator: "/")
            var directory: [String: JSONValue] = [:]
            if case .object(let existing)? = lookup(macTree, mac: String(parts[0]), key: "ipv4-associations") { directory = existing }
            directory[String(parts[2])] = .string(body)
            insert(&macTree, mac: String(parts[0]), key: "ipv4-associations", value: .object(directory))
        }
        var metaData: [String: JSONValue] = [
            "mac": .string(primary),
            "network": .object(["interfaces": .object(["macs": .object(macTree)])]),
        ]
        if let instanceID = top[1] { metaData["instance-id"] = .string(instanceID) }
        return MetadataDocument(root: ["meta-data": .object(metaData)])
    }

    /// MACs of the `macs/` listing (`02:…/` lines). Each must be a MAC before it becomes
    /// part of a request path: a `/` or `..` there would walk the IMDS tree.
    func listedMACs(_ listing: String) throws(IOError) -> [String] {
        var macs: [String] = []
        for line in listing.split(separator: "\n") {
            var entry = String(line)
            if entry.hasSuffix("/") { entry.removeLast() }
            guard MACAddress(entry) != nil else {
                throw .malformed(endpoint: endpointText, path: "/latest/" + Self.macsPath,
                                 reason: "listed \(quotedForMessage(String(line))), not a MAC address")
            }
            macs.append(entry)
        }
        guard !macs.isEmpty else {
            throw .malformed(endpoint: endpointText, path: "/latest/" + Self.macsPath, reason: "no MAC listed")
        }
        return macs
    }

    private func insert(_ tree: inout [String: JSONValue], mac: String, key: String, value: JSONValue) {
        guard case .object(var directory)? = tree[mac] else { return }
        directory[key] = value
        tree[mac] = .object(directory)
    }

    private func lookup(_ tree: [String: JSONValue], mac: String, key: String) -> JSONValue? {
        guard case .object(let directory)? = tree[mac] else { return nil }
        return directory[key]
    }
}

/// A listing entry for a message: escaped and cut, since it came from the network.
func quotedForMessage(_ text: String) -> String {
    var shown = ""
    for scalar in text.unicodeScalars.prefix(64) {
        if scalar.value < 0x20 || scalar.value == 0x7f || scalar == "\\" || scalar == "\"" {
            shown += "\\u{\(String(scalar.value, radix: 16))}"
        } else {
            shown.unicodeScalars.append(scalar)
        }
    }
    return "\"" + shown + (text.unicodeScalars.count > 64 ? "…" : "") + "\""
}
