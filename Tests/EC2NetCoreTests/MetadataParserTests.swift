import EC2NetCore
import Testing
import EC2NetTestSupport

/// The metadata parser: every value typed, every bad value named by its IMDS path.
struct MetadataParserTests {
    /// A one-ENI document with `extra` merged into the ENI's directory (JSON members).
    static func document(eni extra: String = "", primary: String = "02:00:00:00:00:01") -> String {
        """
        {"meta-data": {"mac": "\(primary)", "network": {"interfaces": {"macs": {
          "02:00:00:00:00:01": {"device-number": "0", "local-ipv4s": "10.0.1.10\\n10.0.1.11\\n",
                                "subnet-ipv4-cidr-block": "10.0.1.0/24"\(extra)}}}}}}
        """
    }

    @Test("parses an ENI")
    func parses() throws {
        let instance = try parse(TestSupport.document(Self.document(eni: #", "interface-id": "eni-0abc", "ipv4-associations": {"203.0.113.5": "10.0.1.10"}"#)))
        let eni = try #require(instance.interfaces.first)
        #expect(instance.primaryMAC.description == "02:00:00:00:00:01")
        #expect(eni.privateIPv4s.map(\.description) == ["10.0.1.10", "10.0.1.11"])
        #expect(eni.deviceNumber == 0)
        #expect(eni.networkCard == nil)
        #expect(eni.interfaceID == "eni-0abc")
        #expect(eni.elasticIPs.map(\.publicIP.description) == ["203.0.113.5"])
    }

    @Test("rejected values name the key", arguments: [
        (#", "ipv6s": "2600::1\n[Network]\nDNS=1.2.3.4""#, "02:00:00:00:00:01/ipv6s"),
        (#", "interface-id": "eni-0abc\n[Network]""#, "interface-id"),
        (#", "ipv4-prefix": "10.0.2.65/28""#, "ipv4-prefix"),
        (#", "ipv6s": "::ffff:10.0.0.1""#, "ipv6s"),
        (#", "network-card": "1\n""#, "network-card"),
        (#", "vpc-ipv4-cidr-blocks": "2600::/56""#, "vpc-ipv4-cidr-blocks"),
        (#", "subnet-ipv6-cidr-blocks": {"x": "y"}"#, "subnet-ipv6-cidr-blocks"),
        (#", "ipv4-associations": {"not-an-ip": "10.0.1.10"}"#, "ipv4-associations/not-an-ip"),
        (#", "ipv4-prefix": "10.0.0.0/16""#, "inside the subnet"),
        (#", "ipv4-prefix": "10.0.1.0/24""#, "/28 or longer"),
        (#", "ipv4-prefix": "10.0.9.16/28""#, "inside the subnet 10.0.1.0/24"),
        (#", "ipv6-prefix": "2600:1f14::/56""#, "/80 or longer"),
        (#", "ipv6s": "2600:1f14:abc:d09::1", "subnet-ipv6-cidr-blocks": "2600:1f14:abc:d01::/64""#, "inside the subnet's IPv6 blocks"),
        (#", "interface-id": "eni-0abc\u0000""#, "interface-id"),
        (#", "interface-id": "eni-0abc=1""#, "interface-id"),
    ])
    func rejects(_ extra: String, _ culprit: String) throws {
        let document = try TestSupport.document(Self.document(eni: extra))
        do {
            _ = try parse(document)
            Issue.record("accepted \(extra)")
        } catch {
            #expect(error.description.contains(culprit), "\(error.description)")
            #expect(!error.description.contains("\n"), "message must be one line: \(error.description)")
        }
    }

    @Test("a private IPv4 outside the subnet is rejected, naming it")
    func outsideSubnet() throws {
        let text = Self.document().replacingOccurrences(of: "10.0.1.11", with: "10.0.7.11")
        do {
            _ = try parse(TestSupport.document(text))
            Issue.record("accepted an address outside its subnet")
        } catch {
            #expect("\(error)".contains("local-ipv4s: \"10.0.7.11\" is not an address inside the subnet 10.0.1.0/24"), "\(error)")
        }
    }

    @Test("device-number above 99 is rejected (tables would collide across cards)")
    func deviceNumberBound() throws {
        let text = Self.document().replacingOccurrences(of: #""device-number": "0""#, with: #""device-number": "100""#)
        #expect(throws: InputError.invalidValue(path: "meta-data/network/interfaces/macs/02:00:00:00:00:01/device-number",
                                                value: "100", expected: "a device number 0–99")) {
            try parse(TestSupport.document(text))
        }
    }

    @Test("missing device-number names MAC and key")
    func missingDevice() throws {
        let text = Self.document().replacingOccurrences(of: #""device-number": "0", "#, with: "")
        #expect(throws: InputError.missingKey(path: "meta-data/network/interfaces/macs/02:00:00:00:00:01/device-number")) {
            try parse(TestSupport.document(text))
        }
    }

    @Test("MAC directories with / or .. are rejected", arguments: ["../etc", "02:00:00:00:00:0/", "02:00:00:00:..:01"])
    func hostileMAC(_ key: String) throws {
        let text = Self.document(eni: "").replacingOccurrences(of: "}}}}}}", with: "}, \"\(key)\": {}}}}}}")
        #expect(throws: InputError.invalidValue(path: "meta-data/network/interfaces/macs/\(key)", value: key, expected: "a MAC address")) {
            try parse(TestSupport.document(text))
        }
    }

    @Test("primary MAC must be listed")
    func primaryListed() throws {
        #expect(throws: InputError.missingKey(path: "meta-data/network/interfaces/macs/02:00:00:00:00:09")) {
            try parse(TestSupport.document(Self.document(primary: "02:00:00:00:00:09")))
        }
    }

    @Test("an address on two ENIs is rejected")
    func duplicateAddress() throws {
        let text = Self.document().replacingOccurrences(of: "}}}}}}", with:
            #"}, "02:00:00:00:00:02": {"device-number": "1", "local-ipv4s": "10.0.1.11"}}}}}}"#)
        let macs = [MACAddress("02:00:00:00:00:01"), MACAddress("02:00:00:00:00:02")].compactMap { $0 }
        #expect(throws: InputError.duplicateAddress(IPAddress("10.0.1.11")!, macs: macs)) { try parse(TestSupport.document(text)) }
    }

    @Test("arrays are newline-joined bodies")
    func arrays() throws {
        let text = Self.document().replacingOccurrences(of: #""10.0.1.10\n10.0.1.11\n""#, with: #"["10.0.1.10", "10.0.1.11"]"#)
        #expect(try parse(TestSupport.document(text)).interfaces[0].privateIPv4s.count == 2)
    }
}

extension String {
    /// Test helper: plain substring replacement.
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
