import EC2NetCore
import Testing
import EC2NetTestSupport

/// The JSON parser and serializer that carry the metadata document.
struct JSONTests {
    @Test("round trip is canonical")
    func roundTrip() throws {
        let text = #"{"b": ["x", "y\n[Network]"], "a": {"n": 12, "t": true, "f": false, "z": null, "u": "\u00e9\ud83d\ude00"}}"#
        let value = try JSONParser.parse(text)
        let serialized = value.serialized()
        #expect(try JSONParser.parse(serialized) == value)
        #expect(serialized.hasPrefix("{\n  \"a\": {"))
        #expect(serialized.contains(#""y\n[Network]""#))
        #expect(serialized.contains("é😀"))
    }

    @Test("rejects malformed JSON", arguments: [
        "", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "\"unterminated", "01", "1.", "-", "tru", "{\"a\":1}x",
        "\"\\x\"", "\"\\ud800\"", "\"a\u{01}b\"", "{\"a\":1,\"a\":2}", String(repeating: "[", count: 100),
    ])
    func rejects(_ text: String) {
        #expect(throws: JSONError.self) { try JSONParser.parse(text) }
    }

    @Test("rejects invalid UTF-8")
    func invalidUTF8() {
        #expect(throws: JSONError.self) { try JSONParser.parse([0x22, 0xff, 0xfe, 0x22]) }
    }

    @Test("control characters are escaped on output")
    func escapes() {
        #expect(JSONValue.string("a\u{0}b\u{1f}").serialized() == "\"a\\u0000b\\u001f\"\n")
    }

    @Test("random bytes: the parser either rejects them or returns a value that round-trips")
    func randomBytes() throws {
        var generator = SplitMix64(seed: 42)
        let alphabet = Array("{}[]\":,\\ntrufalse0123456789.-eE \u{0}".utf8) + [0xc3, 0xa9, 0xff]
        var accepted = 0
        for _ in 0..<20_000 {
            let count = Int(generator.next() % 40)
            let bytes = (0..<count).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }
            guard let value = try? JSONParser.parse(bytes) else { continue }
            // What was accepted must mean what it says: serialising and parsing again
            // gives the same value.
            accepted += 1
            #expect(try JSONParser.parse(Array(value.serialized().utf8)) == value, "\(bytes)")
        }
        // The alphabet makes some valid documents (numbers, true, [], …): the check ran.
        #expect(accepted > 50, "only \(accepted) of 20000 random inputs parsed")
    }
}
