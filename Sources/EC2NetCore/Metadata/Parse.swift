/// The IMDS paths the parser reads, relative to `/latest/`.
enum MetadataPath {
    static let metaData = "meta-data"
    static let macs = InterfaceKey.macsPath.split(separator: "/").map(String.init)
}

/// Turns a metadata document into a typed `Instance`: the first step of parse → plan →
/// render. Every string is parsed here into a typed value or rejected with its IMDS path;
/// nothing textual from IMDS travels further, which is what keeps hostile values
/// (newlines, `[Section]` text) out of rendered files.
public func parse(_ document: MetadataDocument) throws(InputError) -> Instance {
    let macText = try document.body([MetadataPath.metaData, "mac"])
    guard let macText else { throw .missingKey(path: "meta-data/mac") }
    guard let primaryMAC = MACAddress(macText) else {
        throw .invalidValue(path: "meta-data/mac", value: macText, expected: "a MAC address")
    }
    var instanceID: String?
    if let text = try document.body([MetadataPath.metaData, "instance-id"]) {
        guard isIdentifier(text, prefix: "i-") else {
            throw .invalidValue(path: "meta-data/instance-id", value: text, expected: "an instance id (i-…)")
        }
        instanceID = text
    }
    var interfaces: [NetworkInterface] = []
    let directory = try document.directory(MetadataPath.macs)
    for key in directory.keys.sorted() {
        let path = (MetadataPath.macs + [key]).joined(separator: "/")
        guard let mac = MACAddress(key) else {
            throw .invalidValue(path: path, value: key, expected: "a MAC address")
        }
        if interfaces.contains(where: { $0.mac == mac }) { throw .duplicateMAC(mac) }
        interfaces.append(try parseInterface(mac: mac, key: key, document: document))
    }
    interfaces.sort { $0.mac < $1.mac }
    guard interfaces.contains(where: { $0.mac == primaryMAC }) else {
        throw .missingKey(path: (MetadataPath.macs + [macText]).joined(separator: "/"))
    }
    try checkAddressesUnique(interfaces)
    return Instance(instanceID: instanceID, primaryMAC: primaryMAC, interfaces: interfaces)
}

/// Parses one `macs/<key>/` directory.
private func parseInterface(mac: MACAddress, key: String, document: MetadataDocument) throws(InputError)
    -> NetworkInterface
{
    let base = MetadataPath.macs + [key]
    let reader = try LeafReader(document: document, base: base)
    var interface = NetworkInterface(mac: mac)
    interface.networkCard = try reader.single(.networkCard, expected: "a network card number 0–99") {
        parseDecimal($0, max: 99)
    }
    interface.interfaceID = try reader.single(.interfaceID, expected: "an interface id (eni-…)") {
        isIdentifier($0, prefix: "eni-") ? $0 : nil
    }
    interface.privateIPv4s = try reader.list(.localIPv4s, expected: "an IPv4 address") { IPv4Address($0) }
    interface.ipv6s = try reader.list(.ipv6s, expected: "an IPv6 address") { parseRoutableIPv6($0) }
    interface.ipv4Prefixes = try reader.list(.ipv4Prefix, expected: "an IPv4 prefix") { parsePrefix($0, .ipv4) }
    interface.ipv6Prefixes = try reader.list(.ipv6Prefix, expected: "an IPv6 prefix") { parsePrefix($0, .ipv6) }
    interface.subnetIPv4CIDR = try reader.single(.subnetIPv4CIDRBlock, expected: "an IPv4 prefix") {
        parsePrefix($0, .ipv4)
    }
    interface.subnetIPv6CIDRs = try reader.list(.subnetIPv6CIDRBlocks, expected: "an IPv6 prefix") {
        parsePrefix($0, .ipv6)
    }
    interface.vpcIPv4CIDRs = try reader.list(.vpcIPv4CIDRBlocks, expected: "an IPv4 prefix") {
        parsePrefix($0, .ipv4)
    }
    interface.vpcIPv6CIDRs = try reader.list(.vpcIPv6CIDRBlocks, expected: "an IPv6 prefix") {
        parsePrefix($0, .ipv6)
    }
    interface.elasticIPs = try parseAssociations(reader: reader)
    interface.deviceNumber = try reader.single(.deviceNumber, expected: "a device number 0–99") {
        // Table ids are 10000 + 100·card + device: a device number of 100 or more would
        // collide with the next card's tables, so it is rejected rather than wrapped.
        parseDecimal($0, max: 99)
    }
    if interface.deviceNumber == nil && interface.hasAddresses {
        throw .missingKey(path: (base + [InterfaceKey.deviceNumber.rawValue]).joined(separator: "/"))
    }
    try checkPlacement(interface, base: base.joined(separator: "/"))
    return interface
}

/// Addresses and prefixes must lie where EC2 puts them: inside the ENI's subnet, and a
/// delegated prefix no wider than EC2 delegates (/28, /80). Anything else is corrupted
/// or hostile metadata; a prefix covering the VPC would otherwise pull every VPC-sourced
/// packet into one ENI's table.
private func checkPlacement(_ interface: NetworkInterface, base: String) throws(InputError) {
    if let subnet = interface.subnetIPv4CIDR {
        for address in interface.privateIPv4s where !subnet.contains(.v4(address)) {
            throw .invalidValue(path: base + "/local-ipv4s", value: address.description, expected: "an address inside the subnet \(subnet)")
        }
        for prefix in interface.ipv4Prefixes where !subnet.contains(prefix.address) || prefix.length < subnet.length {
            throw .invalidValue(path: base + "/ipv4-prefix", value: prefix.description, expected: "a prefix inside the subnet \(subnet)")
        }
    }
    for prefix in interface.ipv4Prefixes where prefix.length < 28 {
        throw .invalidValue(path: base + "/ipv4-prefix", value: prefix.description, expected: "a delegated prefix of /28 or longer")
    }
    for prefix in interface.ipv6Prefixes where prefix.length < 80 {
        throw .invalidValue(path: base + "/ipv6-prefix", value: prefix.description, expected: "a delegated prefix of /80 or longer")
    }
    let subnets = interface.subnetIPv6CIDRs
    if !subnets.isEmpty {
        for address in interface.ipv6s where !subnets.contains(where: { $0.contains(.v6(address)) }) {
            throw .invalidValue(path: base + "/ipv6s", value: address.description, expected: "an address inside the subnet's IPv6 blocks")
        }
        for prefix in interface.ipv6Prefixes where !subnets.contains(where: { $0.contains(prefix.address) }) {
            throw .invalidValue(path: base + "/ipv6-prefix", value: prefix.description, expected: "a prefix inside the subnet's IPv6 blocks")
        }
    }
}

/// Elastic IP associations: `ipv4-associations/<public-ip>` holds the private IP.
private func parseAssociations(reader: LeafReader) throws(InputError) -> [ElasticIP] {
    let path = reader.base + [InterfaceKey.ipv4Associations.rawValue]
    var associations: [ElasticIP] = []
    for key in try reader.document.directory(path).keys.sorted() {
        let keyPath = (path + [key]).joined(separator: "/")
        guard let publicIP = IPv4Address(key) else {
            throw .invalidValue(path: keyPath, value: key, expected: "an IPv4 address")
        }
        let privateIP = try LeafReader(document: reader.document, base: path).single(key, expected: "an IPv4 address") {
            IPv4Address($0)
        }
        if let privateIP { associations.append(ElasticIP(publicIP: publicIP, privateIP: privateIP)) }
    }
    return associations
}

/// An IPv6 address that can be routed as IPv6: IPv4-mapped addresses name IPv4 hosts and
/// would produce rules that never match, so they are rejected.
private func parseRoutableIPv6(_ text: some StringProtocol) -> IPv6Address? {
    guard let address = IPv6Address(text), !address.isIPv4Mapped else { return nil }
    return address
}

/// A prefix of the given family.
private func parsePrefix(_ text: some StringProtocol, _ family: IPFamily) -> IPPrefix? {
    guard let prefix = IPPrefix(text), prefix.family == family else { return nil }
    if case .v6(let address) = prefix.address, address.isIPv4Mapped { return nil }
    return prefix
}

/// AWS identifiers: a fixed prefix, then 1–32 lowercase hex digits.
func isIdentifier(_ text: String, prefix: String) -> Bool {
    guard text.hasPrefix(prefix) else { return false }
    let rest = text.utf8.dropFirst(prefix.utf8.count)
    return (1...32).contains(rest.count)
        && rest.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
}

/// One address must belong to one ENI: the rules for it could only send it out of one.
/// Sorted rather than hashed (an instance has thousands of addresses); the error names the
/// same pair a walk in MAC and list order would meet first.
private func checkAddressesUnique(_ interfaces: [NetworkInterface]) throws(InputError) {
    var entries: [(address: IPAddress, order: Int, mac: MACAddress)] = []
    for interface in interfaces {
        for address in interface.privateIPv4s { entries.append((.v4(address), entries.count, interface.mac)) }
        for address in interface.ipv6s { entries.append((.v6(address), entries.count, interface.mac)) }
    }
    entries.sort { $0.address != $1.address ? $0.address < $1.address : $0.order < $1.order }
    // In each run of one address (sorted by order), the second entry is where a walk
    // would first meet it again; the earliest such entry over all runs is the error.
    var first: (order: Int, address: IPAddress, macs: [MACAddress])?
    var head = 0
    for index in entries.indices.dropFirst() {
        guard entries[index].address == entries[head].address else { head = index; continue }
        guard index == head + 1 else { continue }
        if entries[index].order < first?.order ?? Int.max {
            first = (entries[index].order, entries[index].address, [entries[head].mac, entries[index].mac])
        }
    }
    if let first { throw .duplicateAddress(first.address, macs: first.macs) }
}
