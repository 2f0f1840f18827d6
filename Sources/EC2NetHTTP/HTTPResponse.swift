/// A parsed HTTP/1.1 response.
public struct HTTPResponse: Equatable, Sendable {
    /// Status code.
    public var status: Int
    /// Header fields in order, names lowercased (HTTP names are case-insensitive).
    public var headers: [HTTPHeader]
    /// The decoded body (chunked framing removed).
    public var body: [UInt8]
    /// True when the connection may carry another request.
    public var keepAlive: Bool

    /// Creates a response.
    public init(status: Int, headers: [HTTPHeader], body: [UInt8], keepAlive: Bool) {
        self.status = status
        self.headers = headers
        self.body = body
        self.keepAlive = keepAlive
    }

    /// The first value of a header, by lowercase name.
    public func header(_ name: String) -> String? {
        headers.first { $0.name == name }?.value
    }
}

/// One header field.
public struct HTTPHeader: Equatable, Sendable {
    /// Lowercased name.
    public var name: String
    /// Value with surrounding blanks removed.
    public var value: String

    /// Creates a header field.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// Why a response could not be parsed. Every case is a protocol violation or a bound hit;
/// none is retried blindly by the parser itself.
public enum HTTPParseError: Error, Equatable, Sendable, CustomStringConvertible {
    case malformedStatusLine
    case malformedHeader
    case headersTooLarge(limit: Int)
    case bodyTooLarge(limit: Int)
    case invalidContentLength
    case invalidChunk
    case unsupportedTransferEncoding(String)
    /// The peer closed the connection before the response was complete.
    case truncated

    public var description: String {
        switch self {
        case .malformedStatusLine: return "malformed status line"
        case .malformedHeader: return "malformed header"
        case .headersTooLarge(let limit): return "headers larger than \(limit) bytes"
        case .bodyTooLarge(let limit): return "body larger than \(limit) bytes"
        case .invalidContentLength: return "invalid Content-Length"
        case .invalidChunk: return "invalid chunked encoding"
        case .unsupportedTransferEncoding(let value): return "unsupported Transfer-Encoding \(value)"
        case .truncated: return "response truncated (connection closed early)"
        }
    }
}
