/// Where requests go: `http://` with a literal IPv4 or bracketed IPv6 host and an optional
/// port. No names are resolved and no proxy is ever used, whatever `http_proxy` says: a
/// metadata client must talk to the link-local service directly.
public struct HTTPEndpoint: Equatable, Sendable, CustomStringConvertible {
    /// The host as written in the URL, brackets removed for IPv6.
    public var host: String
    /// TCP port.
    public var port: UInt16
    /// True for an IPv6 host.
    public var isIPv6: Bool

    /// Creates an endpoint from parts already known to be valid literals.
    public init(host: String, port: UInt16, isIPv6: Bool) {
        self.host = host
        self.port = port
        self.isIPv6 = isIPv6
    }

    /// Parses `http://HOST[:PORT][/]`. Anything else (https, a host name, a path, user
    /// info) returns nil: IMDS is plain HTTP on a fixed address.
    public init?(url: String) {
        guard url.hasPrefix("http://") else { return nil }
        var rest = Substring(url.dropFirst(7))
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.isEmpty, !rest.contains("/"), !rest.contains("@") else { return nil }
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portText = after.dropFirst()
            }
            isIPv6 = true
            guard Self.isIPv6Literal(host) else { return nil }
        } else {
            let parts = rest.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { return nil }
            host = String(parts[0])
            if parts.count == 2 { portText = parts[1] }
            isIPv6 = false
            guard Self.isIPv4Literal(host) else { return nil }
        }
        if let portText {
            guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy(\.isNumber),
                  let value = UInt16(portText), value > 0 else { return nil }
            port = value
        } else {
            port = 80
        }
    }

    /// The canonical URL text.
    public var description: String {
        let shownHost = isIPv6 ? "[\(host)]" : host
        return port == 80 ? "http://\(shownHost)" : "http://\(shownHost):\(port)"
    }

    /// The `Host:` header value.
    var hostHeader: String {
        let shownHost = isIPv6 ? "[\(host)]" : host
        return port == 80 ? shownHost : "\(shownHost):\(port)"
    }

    private static func isIPv4Literal(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        // ASCII digits only: `isNumber` is also true for "٣" or "½", which Int() rejects.
        return parts.count == 4 && parts.allSatisfy { part in
            guard !part.isEmpty, part.utf8.count <= 3, part.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
                  let value = Int(part) else { return false }
            return value <= 255
        }
    }

    private static func isIPv6Literal(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 45 && text.contains(":") && text.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
    }
}
