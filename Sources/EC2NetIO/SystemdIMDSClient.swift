import EC2NetCore
import Glibc
import Synchronization

/// Reads IMDS through systemd's IMDS service (systemd 261+: `systemd-imdsd`, Varlink
/// interface `io.systemd.InstanceMetadata`), which holds the session token and, where
/// systemd locks IMDS, is the way through the lock. Every call reads one key fresh (the
/// service's cache off: a refresh must see what changed), scoped to the ENI the key is
/// about when that ENI's link has an IPv4 address, so the request leaves from that ENI
/// as the own client's does and the per-ENI packet budgets spread the same way.
/// What is read is decided by `IMDSTree`, as for the own client.
public final class SystemdIMDSClient: Sendable {
    /// The vendor the service must report: anything else is not EC2's IMDS tree.
    static let vendor = "amazon-ec2"
    private static let interface = "io.systemd.InstanceMetadata"

    /// The socket in use (under the run's root).
    public let socket: String
    /// Parallelism, the primary's link, the packet budgets, the deadline (a call's timeout).
    let configuration: IMDSConfiguration
    private let budgets: LinkBudgets
    private let state = Mutex(State())

    private struct State {
        var calls = 0
        var scopedCalls = 0
        /// Links the service could not read through in this run: their keys are read
        /// unscoped from then on (the own client's `unbindable`).
        var unscoped: Set<String> = []
        var paced = Duration.zero
    }

    /// A client of the service listening at `socket`; nothing is sent until the first read.
    public init(socket: String, configuration: IMDSConfiguration) {
        self.socket = socket
        self.configuration = configuration
        self.budgets = LinkBudgets(configuration)
    }

    /// Varlink calls made so far (`GetVendorInfo` included).
    public var callCount: Int { state.withLock { $0.calls } }

    /// `Get` of `/latest/<path>`; see `IMDSTree.get`.
    func get(_ path: String, on connection: VarlinkConnection, via source: String?,
             allowMissing: Bool) throws(IOError) -> String? {
        let key = "/" + path
        var scope = source.flatMap { link in usable(link) ? link : nil }
        while true {
            var parameters: [String: JSONValue] = ["key": .string(key), "cache": .bool(false)]
            var index: UInt32 = 0
            if let scope {
                index = if_nametoindex(scope)
                if index != 0 { parameters["interface"] = .number(String(index)) }
            }
            let waited = budgets.take(for: index == 0 ? nil : scope)
            state.withLock {
                $0.calls += 1
                $0.paced += waited
                if index != 0 { $0.scopedCalls += 1 }
            }
            let reply: VarlinkConnection.Reply
            do throws(VarlinkFailure) {
                reply = try connection.call(Self.interface + ".Get", parameters: parameters)
            } catch {
                throw .systemdIMDS(socket: socket, key: "/latest" + key, reason: error.description)
            }
            switch reply {
            case .parameters(let fields):
                guard case .string(let data)? = fields["data"], let bytes = Base64.decode(data) else {
                    throw .systemdIMDS(socket: socket, key: "/latest" + key, reason: "a reply without Base64 data")
                }
                guard let text = String(validating: bytes, as: UTF8.self) else {
                    throw .malformed(endpoint: endpointText, path: "/latest" + key, reason: "body is not UTF-8")
                }
                return text
            case .error(let name, _) where name == Self.interface + ".KeyNotFound" && allowMissing:
                return nil
            case .error(let name, _) where index != 0 && name != Self.interface + ".KeyNotFound":
                // The ENI's link cannot carry it (no route to IMDS through it yet): the
                // service's own choice of link, and so from now on for this link.
                _ = state.withLock { $0.unscoped.insert(scope ?? "") }
                scope = nil
            case .error(let name, _):
                throw .systemdIMDS(socket: socket, key: "/latest" + key, reason: Self.shortName(name))
            }
        }
    }

    /// Whether keys about `link`'s ENI can be read scoped to it: not given up on in this
    /// run, and the link has an IPv4 address (the service reaches IMDS over IPv4 first).
    private func usable(_ link: String) -> Bool {
        if state.withLock({ $0.unscoped.contains(link) }) { return false }
        guard InterfaceAddresses.has(link: link, family: AF_INET) else {
            _ = state.withLock { $0.unscoped.insert(link) }
            return false
        }
        return true
    }

    /// `io.systemd.InstanceMetadata.KeyNotFound` → `KeyNotFound`.
    private static func shortName(_ name: String) -> String {
        name.hasPrefix(interface + ".") ? String(name.dropFirst(interface.count + 1)) : name
    }
}

extension SystemdIMDSClient: IMDSTree {
    var parallelism: Int { configuration.parallelism }
    var defaultSource: String? { configuration.defaultSource }
    var endpointText: String { "systemd-imdsd" }

    func makeChannel() -> VarlinkConnection {
        VarlinkConnection(path: socket, timeoutMilliseconds: Int32(configuration.deadlineSeconds * 1000))
    }

    /// Asks the service which cloud it serves: only EC2's tree has the keys ec2-netgen reads.
    func begin(on connection: VarlinkConnection) throws(IOError) {
        state.withLock { $0.calls += 1 }
        let reply: VarlinkConnection.Reply
        do throws(VarlinkFailure) {
            reply = try connection.call(Self.interface + ".GetVendorInfo", parameters: [:])
        } catch {
            throw .systemdIMDS(socket: socket, key: "GetVendorInfo", reason: error.description)
        }
        switch reply {
        case .parameters(let fields):
            let vendor = fields["vendor"]?.string
            guard vendor == Self.vendor else {
                throw .systemdIMDS(socket: socket, key: "GetVendorInfo",
                                   reason: "serves \(vendor.map { quoted($0) } ?? "no vendor"), not \(Self.vendor)")
            }
        case .error(let name, _):
            throw .systemdIMDS(socket: socket, key: "GetVendorInfo", reason: Self.shortName(name))
        }
    }
}

extension SystemdIMDSClient: MetadataReader {
    public func fetchDocument(previous: MetadataDocument?, only: MACAddress?,
                              sourceLinks: [MACAddress: String]) throws(IOError) -> MetadataDocument {
        try readDocument(previous: previous, only: only, sourceLinks: sourceLinks)
    }

    public func missingPart(of mac: MACAddress) throws(IOError) -> String? {
        try readMissingPart(of: mac)
    }

    public func costSummary(milliseconds: Int) -> String {
        let (calls, scoped, paced) = state.withLock { ($0.calls, $0.scopedCalls, $0.paced) }
        let pacedMilliseconds = Int(paced.components.seconds * 1000) + Int(paced.components.attoseconds / 1_000_000_000_000_000)
        return "imds: \(calls) calls (\(scoped) scoped to their ENI), \(milliseconds) ms, budget waits \(pacedMilliseconds) ms (systemd-imdsd at \(socket))"
    }

    public var endpointDescription: String { "systemd-imdsd at \(socket)" }
}
