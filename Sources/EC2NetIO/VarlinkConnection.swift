import EC2NetCore
import Glibc

/// One Varlink connection: JSON messages, each ended by a NUL byte, over a Unix stream
/// socket, one call at a time. Opened on the first call and kept for the next ones; a
/// failed call closes it, so the next opens a new one.
final class VarlinkConnection {
    /// The socket's path.
    let path: String
    /// The longest a call waits for its reply.
    var timeoutMilliseconds: Int32
    /// The largest reply accepted.
    var replyLimit = 1024 * 1024
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []

    init(path: String, timeoutMilliseconds: Int32) {
        self.path = path
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    deinit { closeSocket() }

    /// A reply: its parameters, or the error it names with the error's parameters.
    enum Reply: Equatable {
        case parameters([String: JSONValue])
        case error(name: String, parameters: [String: JSONValue])
    }

    /// Calls `method` with `parameters` and returns its reply; throws a description of
    /// what went wrong on the way (no socket, no answer in time, not Varlink).
    func call(_ method: String, parameters: [String: JSONValue]) throws(VarlinkFailure) -> Reply {
        do throws(VarlinkFailure) {
            if fd < 0 { try connectSocket() }
            let message = JSONValue.object(["method": .string(method), "parameters": .object(parameters)])
            try sendAll(message.serializedBytes() + [0])
            return try decode(try receiveMessage())
        } catch {
            closeSocket()
            throw error
        }
    }

    private func connectSocket() throws(VarlinkFailure) {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw VarlinkFailure("socket path too long") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        let socketFD = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socketFD >= 0 else { throw VarlinkFailure(errno: errno, "socket") }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else {
            let code = errno
            close(socketFD)
            throw VarlinkFailure(errno: code, "connect")
        }
        fd = socketFD
        buffer = []
    }

    private func sendAll(_ bytes: [UInt8]) throws(VarlinkFailure) {
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count < 0 {
                if errno == EINTR { continue }
                throw VarlinkFailure(errno: errno, "send")
            }
            written += count
        }
    }

    /// The next NUL-terminated message, without its NUL.
    private func receiveMessage() throws(VarlinkFailure) -> [UInt8] {
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            if let end = buffer.firstIndex(of: 0) {
                let message = Array(buffer[..<end])
                buffer.removeSubrange(...end)
                return message
            }
            guard buffer.count <= replyLimit else { throw VarlinkFailure("a reply over \(replyLimit) bytes") }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, timeoutMilliseconds)
            if ready < 0 {
                if errno == EINTR { continue }
                throw VarlinkFailure(errno: errno, "poll")
            }
            guard ready > 0 else { throw VarlinkFailure("no reply within \(timeoutMilliseconds) ms") }
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { throw VarlinkFailure("the service closed the connection") }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw VarlinkFailure(errno: errno, "recv")
            }
            buffer.append(contentsOf: chunk[0..<count])
        }
    }

    private func decode(_ message: [UInt8]) throws(VarlinkFailure) -> Reply {
        let value: JSONValue
        do { value = try JSONParser.parse(message) } catch { throw VarlinkFailure("a reply that is not JSON: \(error)") }
        guard case .object(let object) = value else { throw VarlinkFailure("a reply that is not a JSON object") }
        var parameters: [String: JSONValue] = [:]
        if let given = object["parameters"] {
            guard case .object(let fields) = given else { throw VarlinkFailure("reply parameters that are not an object") }
            parameters = fields
        }
        if let error = object["error"] {
            guard case .string(let name) = error else { throw VarlinkFailure("an error name that is not a string") }
            return .error(name: name, parameters: parameters)
        }
        return .parameters(parameters)
    }

    private func closeSocket() {
        if fd >= 0 { close(fd) }
        fd = -1
        buffer = []
    }
}

/// What went wrong on a Varlink connection, as one phrase.
struct VarlinkFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
    init(errno code: Int32, _ call: String) { description = "\(call): \(String(cString: strerror(code)))" }
}
