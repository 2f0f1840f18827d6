import EC2NetHTTP
import Testing
import EC2NetTestSupport

/// The HTTP/1.1 response parser: framing, keep-alive, bounds, and no crash on any input.
struct HTTPParserTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test("Content-Length body, keep-alive by default")
    func contentLength() throws {
        let (response, used) = try #require(try HTTPResponseParser.parse(Self.bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloEXTRA"),
                                                                          bodyLimit: 100, atEOF: false))
        #expect(response.status == 200)
        #expect(response.body == Self.bytes("hello"))
        #expect(response.keepAlive)
        #expect(used == 43)
    }

    @Test("chunked body with extensions and trailers")
    func chunked() throws {
        let text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\n10.0\r\n3\r\n.1\n\r\n0\r\nX-T: 1\r\n\r\n"
        let (response, used) = try #require(try HTTPResponseParser.parse(Self.bytes(text), bodyLimit: 100, atEOF: false))
        #expect(String(decoding: response.body, as: UTF8.self) == "10.0.1\n")
        #expect(used == text.utf8.count)
    }

    @Test("incomplete input asks for more; at EOF it is truncated")
    func incomplete() throws {
        let partial = Self.bytes("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        #expect(try HTTPResponseParser.parse(partial, bodyLimit: 100, atEOF: false) == nil)
        #expect(throws: HTTPParseError.truncated) { try HTTPResponseParser.parse(partial, bodyLimit: 100, atEOF: true) }
        let chunk = Self.bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n10.0.\r\n")
        #expect(try HTTPResponseParser.parse(chunk, bodyLimit: 100, atEOF: false) == nil)
        #expect(throws: HTTPParseError.truncated) { try HTTPResponseParser.parse(chunk, bodyLimit: 100, atEOF: true) }
    }

    @Test("Connection: close and HTTP/1.0 end keep-alive; close-delimited bodies need EOF")
    func connectionClose() throws {
        let close = try #require(try HTTPResponseParser.parse(Self.bytes("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"),
                                                              bodyLimit: 10, atEOF: false))
        #expect(!close.0.keepAlive)
        let old = Self.bytes("HTTP/1.0 200 OK\r\n\r\nbody")
        #expect(try HTTPResponseParser.parse(old, bodyLimit: 10, atEOF: false) == nil)
        let complete = try #require(try HTTPResponseParser.parse(old, bodyLimit: 10, atEOF: true))
        #expect(complete.0.body == Self.bytes("body"))
        #expect(!complete.0.keepAlive)
    }

    @Test("bounds and protocol violations", arguments: [
        ("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", HTTPParseError.bodyTooLarge(limit: 10)),
        ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", .invalidContentLength),
        ("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", .invalidContentLength),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", .unsupportedTransferEncoding("gzip")),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", .invalidChunk),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nb\r\n0123456789ab\r\n", .bodyTooLarge(limit: 10)),
        ("HTTP/2 200 OK\r\n\r\n", .malformedStatusLine),
        ("HTTP/1.1 2000 OK\r\n\r\n", .malformedStatusLine),
        ("HTTP/1.1 200 OK\r\n folded\r\n\r\n", .malformedHeader),
        ("HTTP/1.1 200 OK\r\nBad\u{1}: x\r\n\r\n", .malformedHeader),
    ])
    func violations(_ text: String, _ expected: HTTPParseError) {
        #expect(throws: expected) { try HTTPResponseParser.parse(Self.bytes(text), bodyLimit: 10, atEOF: true) }
    }

    @Test("oversized headers are refused")
    func headerBound() {
        let text = "HTTP/1.1 200 OK\r\nX: " + String(repeating: "a", count: 20000)
        #expect(throws: HTTPParseError.headersTooLarge(limit: HTTPResponseParser.headerLimit)) {
            try HTTPResponseParser.parse(Self.bytes(text), bodyLimit: 10, atEOF: false)
        }
    }

    /// The fuzz target that runs in CI: mutations of valid responses and random bytes.
    /// The parser must return or throw, never trap, and a success must be consistent.
    @Test("fuzz: 50 000 mutated and random inputs never crash")
    func fuzz() {
        var random = SplitMix64(seed: 0xEC2)
        let seeds = [
            "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n10.0.1.10",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n10.0\r\n0\r\n\r\n",
            "HTTP/1.0 404 Not Found\r\nConnection: close\r\n\r\nnope",
            "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n",
        ].map(Self.bytes)
        for round in 0..<50_000 {
            var input: [UInt8]
            if round % 5 == 0 {
                input = (0..<Int(random.next() % 80)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            } else {
                input = seeds[Int(random.next() % UInt64(seeds.count))]
                for _ in 0..<Int(random.next() % 4 + 1) where !input.isEmpty {
                    let position = Int(random.next() % UInt64(input.count))
                    switch random.next() % 4 {
                    case 0: input[position] = UInt8(truncatingIfNeeded: random.next())
                    case 1: input.remove(at: position)
                    case 2: input.insert(Array("\r\n:;0f ".utf8)[Int(random.next() % 7)], at: position)
                    default: input = Array(input[..<position])
                    }
                }
            }
            let limit = Int(random.next() % 64)
            if let (response, used) = try? HTTPResponseParser.parse(input, bodyLimit: limit, atEOF: random.next() % 2 == 0) {
                #expect(used <= input.count)
                #expect(response.body.count <= limit)
            }
        }
    }
}
