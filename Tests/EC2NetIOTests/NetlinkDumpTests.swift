import EC2NetCore
import EC2NetIO
import Foundation
import Testing
import EC2NetTestSupport

/// The rtnetlink dump parser on dumps captured from a kernel (a network namespace with
/// the rules and routes ec2-netgen plans for one ENI, `ip rule`/`ip route` as below):
///   10001: from 10.0.2.20 lookup 10001 suppress_prefixlength 0
///   20000: from all lookup main suppress_prefixlength 0
///   21001: from 10.0.2.20 lookup 10001            (and the IPv6 one from 2001:db8:0:2::20)
///   table 10001: default via 10.0.2.1, 10.0.0.0/16 via 10.0.2.1, 2001:db8:0:2::/64
struct NetlinkDumpTests {
    static func dump(_ name: String) throws -> [UInt8] {
        let url = TestSupport.repository.appendingPathComponent("Tests/EC2NetIOTests/Fixtures/\(name)-dump.hex")
        let hex = Array(try String(contentsOf: url, encoding: .utf8).utf8.filter { $0 != 0x0A })
        return stride(from: 0, to: hex.count, by: 2).compactMap { UInt8(String(decoding: hex[$0..<$0 + 2], as: UTF8.self), radix: 16) }
    }

    @Test("a captured rule dump parses into exactly the kernel's rules, ec2-netgen's among them")
    func rules() throws {
        let (messages, done) = try NetlinkDump.messages(in: Self.dump("rules"))
        #expect(done)
        let rules = messages.compactMap(NetlinkDump.rule)
        let text = rules.map(\.description)
        #expect(text.contains("10001: from 10.0.2.20/32 lookup 10001 suppress_prefixlength 0"), "\(text)")
        #expect(text.contains("20000: from all lookup main suppress_prefixlength 0"), "\(text)")
        #expect(text.contains("21001: from 10.0.2.20/32 lookup 10001"), "\(text)")
        #expect(text.contains("21001: from 2001:db8:0:2::20/128 lookup 10001"), "\(text)")
        // The kernel's own: local (255), main (nil here), default (253), per family.
        #expect(rules.filter { $0.priority == 32766 && $0.table == nil }.count == 2)
        #expect(rules.count == 9)
    }

    @Test("a captured route dump yields table 10001's routes with their gateways")
    func routes() throws {
        let (messages, done) = try NetlinkDump.messages(in: Self.dump("routes"))
        #expect(done)
        let table = messages.compactMap(NetlinkDump.route).filter { $0.table == 10001 }
        #expect(table.contains { $0.destination == nil && $0.gateway == IPAddress("10.0.2.1") })
        #expect(table.contains { $0.destination == IPPrefix("10.0.0.0/16") && $0.gateway == IPAddress("10.0.2.1") })
        #expect(table.contains { $0.family == .ipv6 && $0.destination == IPPrefix("2001:db8:0:2::/64") })
    }

    /// addresses-dump.hex: a veth v0 (ifindex 3) with 10.0.4.10/24, 2001:db8:0:4::10/128 in
    /// duplicate address detection (dad_transmits 3), 2001:db8:0:4::11/128 added `nodad`,
    /// and its link-local address, also tentative; its peer v1 (ifindex 2) has only its
    /// tentative link-local address. Captured with the request ec2-netgen sends.
    @Test("a captured address dump yields each address, its link and whether DAD still runs")
    func addresses() throws {
        let (messages, done) = try NetlinkDump.messages(in: Self.dump("addresses"), familyHeaderSize: NetlinkDump.addressHeaderSize)
        #expect(done)
        let addresses = messages.compactMap(NetlinkDump.address)
        let byText = Dictionary(addresses.map { ("\($0.address)/\($0.prefixLength)", $0) }, uniquingKeysWith: { first, _ in first })
        #expect(byText["10.0.4.10/24"]?.isTentative == false)
        #expect(byText["2001:db8:0:4::10/128"]?.isTentative == true)
        #expect(byText["2001:db8:0:4::11/128"]?.isTentative == false)
        #expect(addresses.filter { $0.interfaceIndex == 3 }.count == 4, "\(addresses)")
        #expect(addresses.filter { $0.interfaceIndex == 2 }.map { $0.address.description.hasPrefix("fe80:") } == [true], "\(addresses)")
        #expect(addresses.count == 5 && addresses.filter(\.isTentative).count == 3, "\(addresses)")
    }

    @Test("a truncated or lying message is an error, not a short list")
    func malformed() throws {
        var bytes = try Self.dump("rules")
        bytes[0] = 0xff  // the first message claims more bytes than the buffer holds
        #expect(throws: IOError.netlink(operation: "parse", code: EBADMSG)) { try NetlinkDump.messages(in: bytes) }
    }
}
