import Glibc
import EC2NetCore
import Testing

/// Typed values: strict parsing, canonical printing.
struct ValueTests {
    @Test("MAC addresses", arguments: [
        ("02:ab:cd:ef:01:23", "02:ab:cd:ef:01:23"),
        ("02:AB:CD:EF:01:23", "02:ab:cd:ef:01:23"),
    ])
    func macValid(_ text: String, _ canonical: String) {
        #expect(MACAddress(text)?.description == canonical)
    }

    @Test("invalid MAC addresses", arguments: [
        "", "02:ab:cd:ef:01", "02:ab:cd:ef:01:23:45", "02-ab-cd-ef-01-23", "02:ab:cd:ef:01:2g",
        "02:ab:cd/ef:01:23", "../../etc/passwd", "02:ab:cd:ef:01:..", "02:ab:cd:ef:01:23\n", " 02:ab:cd:ef:01:23",
    ])
    func macInvalid(_ text: String) {
        #expect(MACAddress(text) == nil)
    }

    @Test("IPv4 addresses", arguments: [
        ("10.0.1.20", true), ("0.0.0.0", true), ("255.255.255.255", true),
        ("256.0.0.1", false), ("10.0.1", false), ("10.0.1.2.3", false), ("010.0.0.1", false),
        ("10.0.0.-1", false), ("", false), ("10..0.1", false), ("10.0.0.1 ", false), ("1e1.0.0.1", false),
    ])
    func ipv4(_ text: String, _ valid: Bool) {
        #expect((IPv4Address(text) != nil) == valid)
        if valid { #expect(IPv4Address(text)?.description == text) }
    }

    @Test("IPv6 canonical form (RFC 5952)", arguments: [
        ("2600:1f14:0abc:0d01:0000:0000:0000:0010", "2600:1f14:abc:d01::10"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("2001:DB8::1", "2001:db8::1"),
        ("::", "::"),
        ("::1", "::1"),
        ("1::", "1::"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        ("::ffff:10.0.0.1", "::ffff:a00:1"),
        ("fe80::1:2:3:4", "fe80::1:2:3:4"),
    ])
    func ipv6(_ text: String, _ canonical: String) {
        #expect(IPv6Address(text)?.description == canonical)
    }

    @Test("invalid IPv6", arguments: [
        "", ":", ":::", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "fe80::1%eth0", "g::1", "1:2:3:4:5:6:7",
        "::1.2.3", "2600::\n[Network]",
    ])
    func ipv6Invalid(_ text: String) {
        #expect(IPv6Address(text) == nil)
    }

    @Test("IPv4-mapped detection")
    func mapped() {
        #expect(IPv6Address("::ffff:10.0.0.1")?.isIPv4Mapped == true)
        #expect(IPv6Address("2600::1")?.isIPv4Mapped == false)
    }

    @Test("prefixes", arguments: [
        ("10.0.2.0/24", true), ("10.0.2.64/28", true), ("10.0.2.1/24", false), ("10.0.0.0/33", false),
        ("10.0.0.0", false), ("10.0.0.0/", false), ("10.0.0.0/024", false), ("2600:1f14::/56", true),
        ("2600:1f14::1/64", false), ("::/0", true), ("0.0.0.0/0", true), ("2600::/129", false),
    ])
    func prefixes(_ text: String, _ valid: Bool) {
        #expect((IPPrefix(text) != nil) == valid)
    }

    @Test("prefix containment and hosts")
    func containment() throws {
        let prefix = try #require(IPPrefix("10.0.2.64/28"))
        #expect(prefix.contains(try #require(IPAddress("10.0.2.79"))))
        #expect(!prefix.contains(try #require(IPAddress("10.0.2.80"))))
        #expect(prefix.ipv4Hosts.count == 16)
        #expect(prefix.ipv4Hosts.first?.description == "10.0.2.64")
        #expect(try #require(IPPrefix("10.0.0.0/16")).overlaps(prefix))
        #expect(try #require(IPPrefix("2600::/64")).ipv4Hosts.isEmpty)
    }

    @Test("the VPC router of a subnet is its network address + 1; none for IPv6 or a subnet too small for it",
          arguments: [("10.0.2.0/24", "10.0.2.1"), ("172.31.16.0/20", "172.31.16.1"), ("10.0.0.0/30", "10.0.0.1"),
                      ("10.0.0.0/31", nil), ("10.0.0.4/32", nil), ("2600:1f14::/64", nil)] as [(String, String?)])
    func vpcRouter(_ subnet: String, _ router: String?) throws {
        #expect(try #require(IPPrefix(subnet)).vpcRouter?.description == router)
    }

    @Test("routing numbers (docs/design.md: routing numbers)", arguments: [
        (0, 0, 10000, 512, 10000, 21000),
        (0, 1, 10001, 513, 10001, 21001),
        (1, 0, 10100, 612, 10100, 21100),
        (3, 15, 10315, 827, 10315, 21315),
        // The last card and device: still before the kernel's `lookup main` at 32766.
        (31, 99, 13199, 3711, 13199, 24199),
    ])
    func numbers(_ card: Int, _ device: Int, _ table: Int, _ metric: Int, _ first: Int, _ second: Int) {
        #expect(RoutingNumbers.table(card: card, device: device) == table)
        #expect(RoutingNumbers.metric(card: card, device: device) == metric)
        #expect(RoutingNumbers.vpcRulePriority(card: card, device: device) == first)
        #expect(RoutingNumbers.defaultRulePriority(card: card, device: device) == second)
        #expect(RoutingNumbers.mainRulePriority == 20000)
    }

    @Test("every priority of every card 0–31 and device 0–99 lies in its band, below the kernel's lookup main at 32766")
    func prioritiesBeforeKernelMain() {
        var seenFirst: Set<Int> = [], seenSecond: Set<Int> = [], seenTables: Set<Int> = []
        for card in 0...31 {
            for device in 0...99 {
                let first = RoutingNumbers.vpcRulePriority(card: card, device: device)
                let second = RoutingNumbers.defaultRulePriority(card: card, device: device)
                #expect(first < RoutingNumbers.mainRulePriority, "card \(card) device \(device): first band \(first)")
                #expect(second > RoutingNumbers.mainRulePriority && second < 32766, "card \(card) device \(device): second band \(second)")
                seenFirst.insert(first); seenSecond.insert(second)
                seenTables.insert(RoutingNumbers.table(card: card, device: device))
            }
        }
        #expect(seenFirst.count == 3200 && seenSecond.count == 3200 && seenTables.count == 3200)
    }
}
