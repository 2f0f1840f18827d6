import EC2NetCore
import EC2NetHTTP
import Glibc
import Synchronization

/// IMDSv2 client: one session token per run (re-fetched once on 401), bounded retries
/// with exponential backoff and full jitter for timeouts, connection failures, 429 and
/// 5xx, a fast failure on 403, and a few parallel workers. Every request is paced by the
/// packet budget of the ENI it leaves from (EC2 polices link-local traffic per ENI), and
/// a request about an ENI leaves from that ENI when it can. Thread-safe; the counters
/// tell how many requests a run cost.
public final class IMDSClient: Sendable {
    /// The configuration in use.
    public let configuration: IMDSConfiguration
    private let state = Mutex(State())
    /// Held while a token is being fetched (see `currentToken`).
    private let tokenGate = Mutex(0)
    private let budgets: LinkBudgets
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant

    private struct State {
        var token: String?
        var tokenGeneration = 0
        var tokenRefreshed = false
        var requests = 0
        var retries = 0
        var random = SystemRandomNumberGenerator()
        var requestsPerSource: [String: Int] = [:]
        /// Links a socket could not be bound to (not up yet, no address), per address
        /// family ("ens5/4"): their requests go the default way from then on.
        var unbindable: Set<String> = []
        /// Links found to have an address of a family (checked once per run).
        var addressed: Set<String> = []
        var paced = Duration.zero
        /// On `configuration.fallbackEndpoint`: the endpoint had no route at all and the
        /// fallback answered. Cleared when the fallback fails too.
        var onFallback = false
    }

    /// Creates a client; nothing is sent until the first request.
    public init(configuration: IMDSConfiguration) {
        self.configuration = configuration
        self.budgets = LinkBudgets(configuration)
        self.start = clock.now
    }

    /// The endpoint requests go to now: the configured one, or its fallback once the
    /// configured one turned out to have no route (an IPv6-only instance).
    public var endpointInUse: HTTPEndpoint {
        state.withLock { $0.onFallback ? (configuration.fallbackEndpoint ?? configuration.endpoint) : configuration.endpoint }
    }

    /// HTTP requests sent so far (token requests and retries included).
    public var requestCount: Int { state.withLock { $0.requests } }
    /// Requests that were retries of a failed attempt.
    public var retryCount: Int { state.withLock { $0.retries } }
    /// Requests per link they were sent through ("" for the default route).
    public var requestsPerSource: [String: Int] { state.withLock { $0.requestsPerSource } }
    /// Time spent waiting for a packet budget, summed over the workers (so it can exceed
    /// the run's wall time).
    public var pacedMilliseconds: Int {
        state.withLock { Int($0.paced.components.seconds * 1000) + Int($0.paced.components.attoseconds / 1_000_000_000_000_000) }
    }

    /// A new connection configured for this client.
    func makeConnection() -> HTTPConnection {
        let connection = HTTPConnection(endpoint: configuration.endpoint)
        connection.connectTimeoutMilliseconds = configuration.connectTimeoutMilliseconds
        connection.readTimeoutMilliseconds = configuration.readTimeoutMilliseconds
        connection.bodyLimit = configuration.bodyLimit
        connection.firewallMark = configuration.firewallMark
        return connection
    }

    /// GETs `/latest/<path>` and returns the body text; nil on 404 only when
    /// `allowMissing` (IMDS answers 404 for an empty list). `source` is the link to send
    /// through (nil: the default route).
    func get(_ path: String, on connection: HTTPConnection, via source: String? = nil,
             allowMissing: Bool = false) throws(IOError) -> String? {
        let fullPath = "/latest/" + path
        var refreshedHere = false
        while true {
            let (token, generation) = try currentToken(on: connection)
            let response = try exchange(connection, via: source, method: "GET", path: fullPath,
                                        headers: [HTTPHeader(name: "X-aws-ec2-metadata-token", value: token)])
            switch response.status {
            case 200:
                guard let text = String(validating: response.body, as: UTF8.self) else {
                    throw .malformed(endpoint: endpointText, path: fullPath, reason: "body is not UTF-8")
                }
                return text
            case 404 where allowMissing:
                return nil
            case 401:
                // The token expired or was revoked: fetch one new token per run.
                guard !refreshedHere, try invalidateToken(generation: generation) else {
                    throw .unauthorized(endpoint: endpointText, path: fullPath)
                }
                refreshedHere = true
            case 403:
                throw .forbidden(endpoint: endpointText, path: fullPath)
            default:
                throw .http(endpoint: endpointText, path: fullPath, status: response.status)
            }
        }
    }

    /// The one retry loop: sends until an answer that is neither 429 nor 5xx, retrying
    /// those and transport failures with backoff until the run's deadline. An oversized
    /// body is never retried (the next answer would be as large).
    private func exchange(_ connection: HTTPConnection, via source: String?, method: String, path: String,
                          headers: [HTTPHeader]) throws(IOError) -> HTTPResponse {
        var attempt = 0
        while true {
            switch send(connection, via: source, attempt: attempt, method: method, path: path, headers: headers) {
            case .success(let response):
                guard response.status == 429 || (500...599).contains(response.status) else { return response }
                try backoff(attempt: &attempt, path: path, last: "status \(response.status)")
            case .failure(let error):
                if case .parse(.bodyTooLarge) = error { throw .transport(endpoint: endpointText, path: path, error: error) }
                try backoff(attempt: &attempt, path: path, last: error.description)
            }
        }
    }

    /// Sends one attempt through `source`, paced by that link's packet budget, and counts
    /// it. A link the socket cannot be bound to (no such link, no address yet, so no
    /// route) sent nothing: its requests go the default way from then on.
    private func send(_ connection: HTTPConnection, via source: String?, attempt: Int, method: String, path: String,
                      headers: [HTTPHeader]) -> Result<HTTPResponse, HTTPError> {
        let wanted = configuration.sendFromOwnENI ? (source ?? configuration.defaultSource) : nil
        while true {
            let fallingBack = state.withLock { $0.onFallback }
            let endpoint = fallingBack ? (configuration.fallbackEndpoint ?? configuration.endpoint) : configuration.endpoint
            connection.endpoint = endpoint
            let link = wanted.flatMap { name in usable(name, ipv6: endpoint.isIPv6) ? name : nil }
            let waited = budgets.take(for: link)
            connection.interfaceName = link
            connection.connectTimeoutMilliseconds = min(2000, configuration.connectTimeoutMilliseconds << min(attempt, 3))
            do {
                let response = try connection.send(method: method, path: path, headers: headers)
                count(link, waited: waited)
                return .success(response)
            } catch {
                if let link, Self.isUnroutable(error) {
                    _ = state.withLock { $0.unbindable.insert(Self.key(link, ipv6: endpoint.isIPv6)) }
                    continue
                }
                if link == nil, !fallingBack, configuration.fallbackEndpoint != nil, Self.hasNoRoute(error) {
                    // No route to the endpoint at all, before any packet left: an instance
                    // without IPv4. The fallback (IPv6) endpoint is tried at once, and
                    // kept while it answers. Decided per attempt, not per run: before
                    // its DHCPv4 lease a dual-stack instance has no IPv4 route either.
                    state.withLock { $0.onFallback = true }
                    continue
                }
                if fallingBack { state.withLock { $0.onFallback = false } }
                if let link, case .timeout = error {
                    // Bound to a link without a route to IMDS, Linux assumes the address is
                    // on that link and ARPs for it in vain; the retry goes the default way.
                    _ = state.withLock { $0.unbindable.insert(Self.key(link, ipv6: endpoint.isIPv6)) }
                }
                count(link, waited: waited)
                return .failure(error)
            }
        }
    }

    /// Whether requests can be sent through `link`: not given up on in this run, and the
    /// link has an address of the endpoint's family (a new ENI before its DHCP lease has
    /// none, and a socket bound to it would ARP for IMDS on that link instead of failing).
    private func usable(_ link: String, ipv6: Bool) -> Bool {
        let key = Self.key(link, ipv6: ipv6)
        let known = state.withLock { state -> Bool? in
            state.unbindable.contains(key) ? false : (state.addressed.contains(key) ? true : nil)
        }
        if let known { return known }
        guard InterfaceAddresses.has(link: link, family: ipv6 ? AF_INET6 : AF_INET) else {
            _ = state.withLock { $0.unbindable.insert(key) }
            return false
        }
        _ = state.withLock { $0.addressed.insert(key) }
        return true
    }

    /// A link and an address family, as the `unbindable` and `addressed` sets hold them.
    private static func key(_ link: String, ipv6: Bool) -> String { link + (ipv6 ? "/6" : "/4") }

    /// connect() found no route to the address at all (nothing was sent).
    static func hasNoRoute(_ error: HTTPError) -> Bool {
        if case .connect(let code, _) = error { return code == ENETUNREACH }
        return false
    }

    private func count(_ link: String?, waited: Duration) {
        state.withLock { state in
            state.requests += 1
            state.requestsPerSource[link ?? "", default: 0] += 1
            state.paced += waited
        }
    }

    /// Failures that mean the bound link cannot carry the request at all, before any
    /// packet left: no such device, not permitted, or no route through it yet.
    static func isUnroutable(_ error: HTTPError) -> Bool {
        switch error {
        case .bindToDevice: return true
        case .connect(let code, _): return code == ENETUNREACH || code == EHOSTUNREACH || code == EADDRNOTAVAIL || code == ENODEV
        default: return false
        }
    }

    /// Sleeps before the next attempt (full jitter over an exponential bound, 50 ms
    /// doubling to 2 s), or throws when the run's deadline would pass.
    private func backoff(attempt: inout Int, path: String, last: String) throws(IOError) {
        let elapsed = clock.now - start
        let bound = min(2.0, 0.05 * Double(1 << min(attempt, 10)))
        let delay = state.withLock { Double.random(in: bound / 2...bound, using: &$0.random) }
        let deadline = Duration.milliseconds(Int(configuration.deadlineSeconds * 1000))
        guard elapsed + .milliseconds(Int(delay * 1000)) < deadline else {
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            throw .deadline(endpoint: endpointText, path: path, seconds: seconds, last: last)
        }
        state.withLock { $0.retries += 1 }
        attempt += 1
        usleep(useconds_t(delay * 1_000_000))
    }

    /// The session token, fetching it on first use. Single-flight: workers that find no
    /// token wait for the one fetching it, so a run (or a 401 refresh) costs one PUT.
    func currentToken(on connection: HTTPConnection) throws(IOError) -> (String, Int) {
        if let current = cachedToken() { return current }
        return try tokenGate.withLock { _ throws(IOError) -> (String, Int) in
            if let current = cachedToken() { return current }
            let token = try fetchToken(on: connection)
            return state.withLock { state in
                state.token = token
                state.tokenGeneration += 1
                return (token, state.tokenGeneration)
            }
        }
    }

    private func cachedToken() -> (String, Int)? {
        state.withLock { state in state.token.map { ($0, state.tokenGeneration) } }
    }

    /// `PUT /latest/api/token`, through the same retry loop as every other request.
    private func fetchToken(on connection: HTTPConnection) throws(IOError) -> String {
        let path = "/latest/api/token"
        let response = try exchange(connection, via: nil, method: "PUT", path: path,
                                    headers: [HTTPHeader(name: "X-aws-ec2-metadata-token-ttl-seconds", value: "\(configuration.tokenTTLSeconds)")])
        switch response.status {
        case 200:
            // A token is opaque but printable; anything else could inject headers.
            guard !response.body.isEmpty, response.body.count <= 1024,
                  response.body.allSatisfy({ $0 > 32 && $0 < 127 }) else {
                throw .malformed(endpoint: endpointText, path: path, reason: "session token is not printable ASCII")
            }
            return String(decoding: response.body, as: UTF8.self)
        case 403: throw .forbidden(endpoint: endpointText, path: path)
        default: throw .http(endpoint: endpointText, path: path, status: response.status)
        }
    }

    /// Drops the token of `generation` so the next request fetches a new one. False when
    /// the run already used its one refresh.
    private func invalidateToken(generation: Int) throws(IOError) -> Bool {
        state.withLock { state in
            if state.tokenGeneration != generation { return true }  // another worker refreshed it
            if state.tokenRefreshed { return false }
            state.tokenRefreshed = true
            state.token = nil
            return true
        }
    }

    /// The endpoint as text, for messages.
    var endpointText: String { endpointInUse.description }
}

extension IMDSClient: IMDSTree {
    var parallelism: Int { configuration.parallelism }
    var defaultSource: String? { configuration.defaultSource }
    func makeChannel() -> HTTPConnection { makeConnection() }
    func begin(on channel: HTTPConnection) throws(IOError) { _ = try currentToken(on: channel) }
}
