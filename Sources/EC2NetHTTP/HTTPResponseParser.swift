/// Parses one HTTP/1.1 response from the front of a byte buffer. A pure function so it can
/// be fuzzed: given the bytes received so far and whether the peer has closed, it returns
/// the response and how many bytes it used, nil when more bytes are needed, or an error.
public enum HTTPResponseParser {
    /// Header section bound: IMDS headers are a few hundred bytes.
    public static let headerLimit = 16 * 1024

    /// Parses a response. `bodyLimit` bounds the decoded body; `atEOF` says the peer
    /// closed, which completes a close-delimited body and turns "need more" into
    /// `.truncated`.
    public static func parse(_ bytes: [UInt8], bodyLimit: Int, atEOF: Bool) throws(HTTPParseError) -> (HTTPResponse, Int)? {
        guard let headerEnd = findHeaderEnd(bytes) else {
            if bytes.count > headerLimit { throw .headersTooLarge(limit: headerLimit) }
            if atEOF { throw .truncated }
            return nil
        }
        guard headerEnd <= headerLimit else { throw .headersTooLarge(limit: headerLimit) }
        let (status, version, headers) = try parseHead(bytes[0..<headerEnd])
        var keepAlive = version == "HTTP/1.1"
        if let connection = headers.first(where: { $0.name == "connection" })?.value.lowercased() {
            if connection.contains("close") { keepAlive = false }
            if connection.contains("keep-alive") { keepAlive = true }
        }
        let bodyStart = headerEnd + 4
        let noBody = (100..<200).contains(status) || status == 204 || status == 304
        if noBody { return (HTTPResponse(status: status, headers: headers, body: [], keepAlive: keepAlive), bodyStart) }

        if let encoding = headers.last(where: { $0.name == "transfer-encoding" })?.value {
            guard encoding.lowercased() == "chunked" else { throw .unsupportedTransferEncoding(encoding) }
            guard let (body, end) = try decodeChunked(bytes, from: bodyStart, bodyLimit: bodyLimit) else {
                if atEOF { throw .truncated }
                return nil
            }
            return (HTTPResponse(status: status, headers: headers, body: body, keepAlive: keepAlive), end)
        }
        let lengths = headers.filter { $0.name == "content-length" }.map(\.value)
        if let first = lengths.first {
            // Differing duplicate lengths are a classic smuggling vector: refuse them.
            guard lengths.allSatisfy({ $0 == first }), let length = parseLength(first) else { throw .invalidContentLength }
            guard length <= bodyLimit else { throw .bodyTooLarge(limit: bodyLimit) }
            guard bytes.count - bodyStart >= length else {
                if atEOF { throw .truncated }
                return nil
            }
            let body = Array(bytes[bodyStart..<bodyStart + length])
            return (HTTPResponse(status: status, headers: headers, body: body, keepAlive: keepAlive), bodyStart + length)
        }
        // No framing: the body runs to the end of the connection.
        guard bytes.count - bodyStart <= bodyLimit else { throw .bodyTooLarge(limit: bodyLimit) }
        guard atEOF else { return nil }
        return (HTTPResponse(status: status, headers: headers, body: Array(bytes[bodyStart...]), keepAlive: false), bytes.count)
    }

    /// Index of the CR of the first CRLFCRLF.
    private static func findHeaderEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        var index = 0
        let limit = min(bytes.count - 3, headerLimit + 1)
        while index < limit {
            if bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 { return index }
            index += 1
        }
        return nil
    }

    private static func parseHead(_ head: ArraySlice<UInt8>) throws(HTTPParseError) -> (Int, String, [HTTPHeader]) {
        var lines = split(head)
        guard !lines.isEmpty else { throw .malformedStatusLine }
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: UInt8(ascii: " "), maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[1].count == 3,
              let version = String(validating: parts[0], as: UTF8.self), version == "HTTP/1.1" || version == "HTTP/1.0",
              parts[1].allSatisfy({ (48...57).contains($0) }),
              let status = Int(String(decoding: parts[1], as: UTF8.self)), status >= 100 else { throw .malformedStatusLine }
        var headers: [HTTPHeader] = []
        for line in lines {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex else { throw .malformedHeader }
            let name = line[line.startIndex..<colon]
            // Token characters only; obsolete line folding (leading blank) is rejected.
            guard name.allSatisfy({ $0 > 32 && $0 < 127 && $0 != UInt8(ascii: ":") }) else { throw .malformedHeader }
            let rawValue = line[(colon + 1)...]
            guard rawValue.allSatisfy({ $0 == 9 || ($0 >= 32 && $0 != 127) }) else { throw .malformedHeader }
            let value = String(decoding: rawValue, as: UTF8.self)
            headers.append(HTTPHeader(name: String(decoding: name, as: UTF8.self).lowercased(), value: trimBlanks(value)))
        }
        return (status, "HTTP/1.\(parts[0].last == UInt8(ascii: "1") ? 1 : 0)", headers)
    }

    /// CRLF-separated lines of the head.
    private static func split(_ head: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = head.startIndex
        var index = head.startIndex
        while index < head.endIndex {
            if head[index] == 13, index + 1 < head.endIndex, head[index + 1] == 10 {
                lines.append(head[start..<index])
                index += 2
                start = index
            } else {
                index += 1
            }
        }
        lines.append(head[start..<head.endIndex])
        return lines
    }

    /// Decimal length without sign or blanks, bounded to fit an Int comfortably.
    private static func parseLength(_ text: String) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 12, text.utf8.allSatisfy({ (48...57).contains($0) }) else { return nil }
        return Int(text)
    }

    /// Decodes a chunked body starting at `start`; nil when incomplete.
    private static func decodeChunked(_ bytes: [UInt8], from start: Int, bodyLimit: Int) throws(HTTPParseError) -> ([UInt8], Int)? {
        var body: [UInt8] = []
        var index = start
        while true {
            guard let lineEnd = findCRLF(bytes, from: index) else {
                if bytes.count - index > 64 { throw .invalidChunk }
                return nil
            }
            var sizeField = bytes[index..<lineEnd]
            if let semicolon = sizeField.firstIndex(of: UInt8(ascii: ";")) { sizeField = sizeField[..<semicolon] }
            guard !sizeField.isEmpty, sizeField.count <= 8 else { throw .invalidChunk }
            var size = 0
            for byte in sizeField {
                let digit: Int
                switch byte {
                case 48...57: digit = Int(byte) - 48
                case 97...102: digit = Int(byte) - 87
                case 65...70: digit = Int(byte) - 55
                default: throw .invalidChunk
                }
                size = size * 16 + digit
            }
            index = lineEnd + 2
            if size == 0 {
                // Trailer section: header lines until an empty line.
                while true {
                    guard let end = findCRLF(bytes, from: index) else { return nil }
                    if end == index { return (body, end + 2) }
                    guard end - index <= 1024 else { throw .invalidChunk }
                    index = end + 2
                }
            }
            guard body.count + size <= bodyLimit else { throw .bodyTooLarge(limit: bodyLimit) }
            guard bytes.count - index >= size + 2 else { return nil }
            guard bytes[index + size] == 13, bytes[index + size + 1] == 10 else { throw .invalidChunk }
            body.append(contentsOf: bytes[index..<index + size])
            index += size + 2
        }
    }

    private static func findCRLF(_ bytes: [UInt8], from start: Int) -> Int? {
        var index = start
        while index + 1 < bytes.count {
            if bytes[index] == 13 && bytes[index + 1] == 10 { return index }
            index += 1
        }
        return nil
    }

    private static func trimBlanks(_ text: String) -> String {
        var slice = Substring(text)
        while slice.first == " " || slice.first == "\t" { slice = slice.dropFirst() }
        while slice.last == " " || slice.last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}
