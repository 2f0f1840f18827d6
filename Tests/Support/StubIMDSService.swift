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
    private let imds: HTTPEndpoint
    private let listener: Int32
    public var vendor = "amazon-ec2"
    public var scopedFails = false
    private let lock = NSLock()
    private var recorded: [[String: JSONValue]] = []

    public init(imds: StubIMDS) throws {
        directory = try TestSupport.temporaryDirectory()
        socketPath = directory.appendingPathComponent("io.systemd.InstanceMetadata").path
        guard let endpoint = HTTPEndpoint(url: imds.endpoint) else { throw TestFailure("stub IMDS endpoint \(imds.endpoint)") }
        self.imds = endpoint
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in socketPath.utf8.enumerated() { raw[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(listener, 16) == 0 else { throw TestFailure("cannot listen on \(socketPath)") }
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    deinit {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        try? FileManager.default.removeItem(at: directory)
    }

    /// The parameters of every call so far, with the method under "method".
    public var calls: [[String: JSONValue]] { lock.withLock { recorded } }

    private func acceptLoop() {
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 { return }
            Thread { [self] in serve(fd) }.start()
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
            return .object(["error": .string("org.varlink.service.InvalidParameter")])
        }
        var parameters: [String: JSONValue] = [:]
        if case .object(let given)? = call["parameters"] { parameters = given }
        lock.withLock { recorded.append(parameters.merging(["method": .string(method)]) { $1 }) }
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
