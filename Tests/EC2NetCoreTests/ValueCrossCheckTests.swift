import Glibc
import EC2NetCore
import Testing
import EC2NetTestSupport

/// Our parsers and printers against glibc's inet_pton/inet_ntop on random input.
struct ValueCrossCheckTests {
    @Test("IPv6 text matches inet_ntop, and parses back, for 20 000 random addresses")
    func ipv6AgainstGlibc() throws {
        var random = SplitMix64(seed: 6)
        for _ in 0..<20_000 {
            // Zero runs of random length, so compression is exercised.
            var groups = (0..<8).map { _ in random.next() % 3 == 0 ? UInt16(0) : UInt16(truncatingIfNeeded: random.next() >> UInt64(random.next() % 16)) }
            if groups[0..<5].allSatisfy({ $0 == 0 }) { groups[0] = 0x2600 }  // glibc prints ::a.b.c.d forms there
            let address = IPv6Address(groups: groups)
            var raw = in6_addr()
            withUnsafeMutableBytes(of: &raw) { bytes in
                for (index, group) in groups.enumerated() {
                    bytes[2 * index] = UInt8(group >> 8)
                    bytes[2 * index + 1] = UInt8(group & 0xff)
                }
            }
            var text = [CChar](repeating: 0, count: 64)
            inet_ntop(AF_INET6, &raw, &text, 64)
            let expected = String(cString: text)
            #expect(address.description == expected)
            #expect(IPv6Address(expected) == address)
        }
    }

    @Test("IPv4 parsing agrees with inet_pton on random dotted text")
    func ipv4AgainstGlibc() {
        var random = SplitMix64(seed: 4)
        let alphabet = Array("0123456789.".utf8)
        for _ in 0..<20_000 {
            let length = Int(random.next() % 16) + 1
            let text = String(decoding: (0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }, as: UTF8.self)
            var raw = in_addr()
            let glibc = inet_pton(AF_INET, text, &raw) == 1
            let ours = IPv4Address(text)
            // inet_pton accepts the same strict dotted quad, but leading zeros too ("01").
            let hasLeadingZero = text.split(separator: ".").contains { $0.count > 1 && $0.first == "0" }
            if !hasLeadingZero {
                #expect((ours != nil) == glibc, "\(text)")
            } else {
                #expect(ours == nil, "\(text)")
            }
            if let ours, glibc { #expect(ours.value == UInt32(bigEndian: raw.s_addr), "\(text)") }
        }
    }
}
