import EC2NetCore
import EC2NetHTTP
import Foundation

/// systemd's IMDS service as ec2-netgen sees it (`io.systemd.InstanceMetadata`, checked
/// against systemd-imdsd 262.1 in the scenario suite): Varlink on a Unix socket, each
/// message JSON ended by a NUL; `Get` reads the key below `/latest` from an IMDS (here
/// the stub IMDS) with an IMDSv2 token, as the daemon does, and answers the body in
/// Base64, `KeyNotFound` for a 404; `GetVendorInfo` names the vendor. Calls scoped to an
/// interface fail with `CommunicationFailure` when `scopedFails` is set (a link the
/// daemon cannot reach IMDS through). Every call is recorded.
/// `@unchecked Sendable`: the settings are written before the first call, the record under a lock.
public final class StubIMDSService: @unchecked Sendable {
    public let socketPath: String
    private let directory: URL
    private let listener: Int32
    /// What the serving threads share; they hold it, not this object, so that the test's
    /// last reference ends the service (deinit shuts the listener and removes the socket).
    private let state: State

    public var vendor: String {
        get { state.lock.withLock { state.vendor } }
        set { state.lock.withLock { state.vendor = newValue } }
    }
    public var scopedFails: Bool {
        get { state.lock.withLock { state.scopedFails } }
        set { state.lock.withLock { state.scopedFails = newValue } }
    }

    public init(imds: StubIMDS) throws {
        guard let endpoint = HTTPEndpoint(url: imds.endpoint) else { throw TestFailure("stub IMDS endpoint \(imds.endpoint)") }
        directory = try TestSupport.temporaryDirectory()
        socketPath = directory.appendingPathComponent("io.systemd.InstanceMetadata").path
        state = State(imds: endpoint)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        listener = fd
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in socketPath.utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            try? FileManager.default.removeItem(at: directory)
            throw TestFailure("cannot listen on \(socketPath)")
        }
        let state = self.state
        Thread { state.acceptLoop(fd) }.start()
    }

    deinit {
        // accept() fails once the socket is shut down, which ends the accepting thread.
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        try? FileManager.default.removeItem(at: directory)
    }

    /// The parameters of every call so far, with the method under "method".
    public var calls: [[String: JSONValue]] { state.lock.withLock { state.recorded } }

    private final class State: @unchecked Sendable {
        let imds: HTTPEndpoint
        let lock = NSLock()
        var vendor = "amazon-ec2"
        var scopedFails = false
        var recorded: [[String: JSONValue]] = []

        init(imds: HTTPEndpoint) { self.imds = imds }

        func acceptLoop(_ listener: Int32) {
            while true {
                let fd = accept(listener, nil, nil)
                if fd < 0 { return }
                Thread { self.serve(fd) }.start()
            }
        }

        private func serve(_ fd: Int32) {
            defer { close(fd) }
            var buffer: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                while let end = buffer.firstIndex(of: 0) {
                    let message = Array(buffer[..<end])
                    buffer.removeSubrange(...end)
                    var reply = answer(message).serializedBytes()
                    reply.append(0)
                    _ = reply.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                }
                let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count <= 0 { return }
                buffer.append(contentsOf: chunk[0..<count])
            }
        }

        private func answer(_ message: [UInt8]) -> JSONValue {
            guard case .object(let call)? = try? JSONParser.parse(message), case .string(let method)? = call["method"] else {
                return error("org.varlink.service.InvalidParameter")
            }
            var parameters: [String: JSONValue] = [:]
            if case .object(let given)? = call["parameters"] { parameters = given }
            let (vendor, scopedFails) = lock.withLock { () -> (String, Bool) in
                recorded.append(parameters.merging(["method": .string(method)]) { $1 })
                return (self.vendor, self.scopedFails)
            }
            switch method {
            case "io.systemd.InstanceMetadata.GetVendorInfo":
                return .object(["parameters": .object(["vendor": .string(vendor)])])
            case "io.systemd.InstanceMetadata.Get":
                guard case .string(let key)? = parameters["key"] else { return error("org.varlink.service.InvalidParameter") }
                if parameters["interface"] != nil && scopedFails { return error("io.systemd.InstanceMetadata.CommunicationFailure") }
                let connection = HTTPConnection(endpoint: imds)
                guard let token = try? connection.send(method: "PUT", path: "/latest/api/token",
                                                       headers: [HTTPHeader(name: "X-aws-ec2-metadata-token-ttl-seconds", value: "900")]),
                      token.status == 200,
                      let response = try? connection.send(method: "GET", path: "/latest" + key,
                                                          headers: [HTTPHeader(name: "X-aws-ec2-metadata-token", value: String(decoding: token.body, as: UTF8.self))])
                else { return error("io.systemd.InstanceMetadata.CommunicationFailure") }
                if response.status == 404 { return error("io.systemd.InstanceMetadata.KeyNotFound") }
                guard response.status == 200 else { return error("io.systemd.InstanceMetadata.CommunicationFailure") }
                return .object(["parameters": .object(["data": .string(Data(response.body).base64EncodedString())])])
            default:
                return error("org.varlink.service.MethodNotFound")
            }
        }

        private func error(_ name: String) -> JSONValue { .object(["error": .string(name)]) }
    }
}
