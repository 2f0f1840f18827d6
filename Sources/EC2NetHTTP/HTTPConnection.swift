import Glibc

/// One HTTP/1.1 connection over a plain socket, reused while the server keeps it alive
/// (EC2's IMDS never does: it closes after every response). Not thread-safe: each worker
/// owns one. Reconnects on the next request after any failure; it never resends on its
/// own, so the caller sees (and counts) every failed attempt.
public final class HTTPConnection {
    /// Where requests go. Changing it closes an open socket.
    public var endpoint: HTTPEndpoint {
        didSet { if endpoint != oldValue { closeSocket() } }
    }
    /// Bound on connect().
    public var connectTimeoutMilliseconds: Int32 = 1000
    /// Bound on waiting for each read.
    public var readTimeoutMilliseconds: Int32 = 2000
    /// Bound on a response body.
    public var bodyLimit = 256 * 1024
    /// The link to send through (SO_BINDTODEVICE), or nil for the routing table's choice.
    /// IMDS polices packets per ENI, so a request about an ENI can be sent from that ENI.
    /// Changing it closes an open socket, since a socket is tied to one link.
    public var interfaceName: String? {
        didSet { if interfaceName != oldValue { closeSocket() } }
    }

    /// SO_MARK for the socket, or nil. Setting it needs CAP_NET_ADMIN; without it the
    /// socket goes unmarked (and where IMDS is locked, is refused as any other).
    public var firewallMark: UInt32? {
        didSet { if firewallMark != oldValue { closeSocket() } }
    }

    private var fd: Int32 = -1
    private var buffer: [UInt8] = []

    /// Creates a connection (nothing is opened until the first request).
    public init(endpoint: HTTPEndpoint) { self.endpoint = endpoint }

    deinit { closeSocket() }

    /// Sends one request and reads its response.
    public func send(method: String, path: String, headers: [HTTPHeader] = []) throws(HTTPError) -> HTTPResponse {
        var request = "\(method) \(path) HTTP/1.1\r\nHost: \(endpoint.hostHeader)\r\nUser-Agent: ec2-netgen\r\nAccept: */*\r\n"
        for header in headers { request += "\(header.name): \(header.value)\r\n" }
        if method == "PUT" || method == "POST" { request += "Content-Length: 0\r\n" }
        request += "\r\n"
        do {
            return try exchange(Array(request.utf8))
        } catch {
            closeSocket()
            throw error
        }
    }

    private func exchange(_ request: [UInt8]) throws(HTTPError) -> HTTPResponse {
        if fd < 0 { try open() }
        try writeAll(request)
        buffer.removeAll(keepingCapacity: true)
        var atEOF = false
        while true {
            let parsed: (HTTPResponse, Int)?
            do {
                parsed = try HTTPResponseParser.parse(buffer, bodyLimit: bodyLimit, atEOF: atEOF)
            } catch {
                closeSocket()
                // A peer that closes before sending anything on a reused connection looks
                // like EOF-with-nothing: report it as I/O so send() can reconnect.
                if error == .truncated && buffer.isEmpty { throw .io(code: ECONNRESET, message: "connection closed by peer") }
                throw .parse(error)
            }
            if let (response, _) = parsed {
                if !response.keepAlive { closeSocket() }
                return response
            }
            atEOF = try readMore()
        }
    }

    private func open() throws(HTTPError) {
        let family = endpoint.isIPv6 ? AF_INET6 : AF_INET
        let socketFD = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard socketFD >= 0 else { throw .connect(code: errno, message: errnoText(errno)) }
        fd = socketFD
        if let interfaceName {
            // Unprivileged since Linux 5.7 for a socket not yet bound to a device.
            let bound = interfaceName.withCString { setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, $0, socklen_t(strlen($0) + 1)) }
            if bound != 0 {
                let code = errno
                closeSocket()
                throw .bindToDevice(interface: interfaceName, code: code, message: errnoText(code))
            }
        }
        if var mark = firewallMark {
            _ = setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, socklen_t(MemoryLayout<UInt32>.size))
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let result: Int32
        if endpoint.isIPv6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = endpoint.port.bigEndian
            guard inet_pton(AF_INET6, endpoint.host, &address.sin6_addr) == 1 else { throw invalidHost() }
            result = startConnect(&address)
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = endpoint.port.bigEndian
            guard inet_pton(AF_INET, endpoint.host, &address.sin_addr) == 1 else { throw invalidHost() }
            result = startConnect(&address)
        }
        if result != 0 {
            guard errno == EINPROGRESS else {
                let code = errno
                closeSocket()
                throw .connect(code: code, message: errnoText(code))
            }
            guard try wait(for: Int16(POLLOUT), milliseconds: connectTimeoutMilliseconds) else {
                closeSocket()
                throw .timeout(phase: "connecting to \(endpoint)")
            }
            var code: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length)
            if code != 0 {
                closeSocket()
                throw .connect(code: code, message: errnoText(code))
            }
        }
    }

    /// Non-blocking connect() to a sockaddr_in or sockaddr_in6.
    private func startConnect<Address>(_ address: inout Address) -> Int32 {
        withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<Address>.size)) }
        }
    }

    /// The endpoint's host is not a literal of its family (HTTPEndpoint should prevent it).
    private func invalidHost() -> HTTPError {
        closeSocket()
        return .connect(code: EINVAL, message: "invalid address \(endpoint.host)")
    }

    private func writeAll(_ bytes: [UInt8]) throws(HTTPError) {
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress.map { $0 + written }, raw.count - written, Int32(MSG_NOSIGNAL))
            }
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN {
                    guard try wait(for: Int16(POLLOUT), milliseconds: readTimeoutMilliseconds) else {
                        throw .timeout(phase: "sending to \(endpoint)")
                    }
                    continue
                }
                throw .io(code: errno, message: errnoText(errno))
            }
            written += count
        }
    }

    /// Reads what is available; returns true at end of stream.
    private func readMore() throws(HTTPError) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                buffer.append(contentsOf: chunk[0..<count])
                return false
            }
            if count == 0 { return true }
            if errno == EINTR { continue }
            if errno == EAGAIN {
                guard try wait(for: Int16(POLLIN), milliseconds: readTimeoutMilliseconds) else {
                    closeSocket()
                    throw .timeout(phase: "waiting for \(endpoint)")
                }
                continue
            }
            let code = errno
            closeSocket()
            throw .io(code: code, message: errnoText(code))
        }
    }

    /// poll() for an event; false on timeout.
    private func wait(for events: Int16, milliseconds: Int32) throws(HTTPError) -> Bool {
        var descriptor = pollfd(fd: fd, events: events, revents: 0)
        while true {
            let result = poll(&descriptor, 1, milliseconds)
            if result > 0 { return true }
            if result == 0 { return false }
            if errno != EINTR { throw .io(code: errno, message: errnoText(errno)) }
        }
    }

    private func closeSocket() {
        if fd >= 0 { close(fd) }
        fd = -1
    }
}

/// strerror text for an errno.
func errnoText(_ code: Int32) -> String { String(cString: strerror(code)) }
