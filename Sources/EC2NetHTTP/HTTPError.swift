/// A failed exchange with the server. The IMDS client decides which of these to retry.
public enum HTTPError: Error, Equatable, Sendable, CustomStringConvertible {
    /// connect() failed (errno), e.g. refused or unreachable.
    case connect(code: Int32, message: String)
    /// The socket could not be tied to the link it was asked to send through
    /// (SO_BINDTODEVICE: no such link, or not allowed).
    case bindToDevice(interface: String, code: Int32, message: String)
    /// No answer within the deadline.
    case timeout(phase: String)
    /// The connection broke (reset, EPIPE) while sending or receiving.
    case io(code: Int32, message: String)
    /// The response violated HTTP or a bound.
    case parse(HTTPParseError)

    public var description: String {
        switch self {
        case .connect(_, let message): return "connect failed: \(message)"
        case .bindToDevice(let interface, _, let message): return "cannot send through \(interface): \(message)"
        case .timeout(let phase): return "timed out \(phase)"
        case .io(_, let message): return "connection error: \(message)"
        case .parse(let error): return "bad response: \(error)"
        }
    }
}
