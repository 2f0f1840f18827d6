import EC2NetHTTP
import Glibc

/// A failure talking to another process or the kernel (IMDS, networkd over D-Bus, udev,
/// rtnetlink), naming its culprit. All are runtime failures (exit 1); on an IMDS failure
/// `apply` changes no file and no cache.
public enum IOError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `AWS_EC2_METADATA_DISABLED=true` and no `--imds-endpoint`.
    case disabledByEnvironment
    /// An endpoint setting is not a usable `http://ADDRESS[:PORT]` URL; `source` names
    /// where it came from (the flag, the variable, the configuration file and line).
    case invalidEndpoint(source: String, value: String)
    /// An endpoint mode is neither IPv4 nor IPv6; `source` as above.
    case invalidEndpointMode(source: String, value: String)
    /// 403: the instance's metadata options turn IMDS off.
    case forbidden(endpoint: String, path: String)
    /// 401 again after a fresh token.
    case unauthorized(endpoint: String, path: String)
    /// A status that is neither success nor retryable.
    case http(endpoint: String, path: String, status: Int)
    /// Retries ran out of time; `last` is the final failure.
    case deadline(endpoint: String, path: String, seconds: Double, last: String)
    /// A failure that retrying cannot fix (oversized body, protocol violation).
    case transport(endpoint: String, path: String, error: HTTPError)
    /// A listing or value is unusable (a MAC with `/`, a non-ASCII token, …).
    case malformed(endpoint: String, path: String, reason: String)
    /// systemd's IMDS service (at `socket`) did not give `key`: the error it named, or
    /// what went wrong on the way to it.
    case systemdIMDS(socket: String, key: String, reason: String)
    /// `--wait-for`: the ENI's record did not become complete in time.
    case waitTimedOut(link: String, mac: String, seconds: Double, reason: String)
    /// A D-Bus call to networkd failed; `name` is the D-Bus error name when there is one
    /// (sd-bus maps names to errno, so `ServiceUnknown` would otherwise read as "No route
    /// to host").
    case bus(operation: String, name: String?, code: Int32, message: String?)
    /// An sd-device call failed.
    case udev(operation: String, code: Int32)
    /// An rtnetlink read failed.
    case netlink(operation: String, code: Int32)

    /// True when IMDS could not be reached at all (no answer, or none before the
    /// deadline), as opposed to an answer that refused, lagged or made no sense.
    public var imdsUnreachable: Bool {
        switch self {
        case .transport, .deadline: return true
        default: return false
        }
    }

    /// True when networkd simply is not running (or no bus exists yet, as early at boot):
    /// it reads the files when it starts, so there is nothing to reload.
    public var networkdAbsent: Bool {
        guard case .bus(_, let name, let code, _) = self else { return false }
        if name == "org.freedesktop.DBus.Error.ServiceUnknown" || name == "org.freedesktop.DBus.Error.NameHasNoOwner" { return true }
        return name == nil && (code == ENOENT || code == ECONNREFUSED)
    }

    public var description: String {
        switch self {
        case .disabledByEnvironment:
            return "IMDS access is disabled by AWS_EC2_METADATA_DISABLED (use --imds-endpoint to override)"
        case .invalidEndpointMode(let source, let value):
            return "\(source): \(value) is not IPv4 or IPv6"
        case .invalidEndpoint(let source, let value):
            return "\(source): \(value) is not an http://ADDRESS[:PORT] URL with a literal IPv4 or [IPv6] address"
        case .forbidden(let endpoint, let path):
            return "IMDS is disabled for this instance: \(endpoint)\(path) answered 403"
        case .unauthorized(let endpoint, let path):
            return "IMDS refused the session token twice: \(endpoint)\(path) answered 401"
        case .http(let endpoint, let path, let status):
            return "IMDS \(endpoint)\(path) answered \(status)"
        case .deadline(let endpoint, let path, let seconds, let last):
            return "IMDS \(endpoint)\(path) still failing after \(formatSeconds(seconds)) s: \(last)"
        case .transport(let endpoint, let path, let error):
            return "IMDS \(endpoint)\(path): \(error)"
        case .malformed(let endpoint, let path, let reason):
            return "IMDS \(endpoint)\(path): \(reason)"
        case .systemdIMDS(let socket, let key, let reason):
            return "systemd's IMDS service (\(socket)): \(key): \(reason)"
        case .waitTimedOut(let link, let mac, let seconds, let reason):
            return "--wait-for \(link): IMDS did not complete \(mac) within \(formatSeconds(seconds)) s (\(reason))"
        case .bus(let operation, let name, let code, let message):
            var text = "networkd \(operation) over D-Bus failed"
            if let name { text += ": \(name)" }
            return text + ": " + (message ?? String(cString: strerror(code)))
        case .udev(let operation, let code):
            return code == 0 ? "udev: \(operation)" : "udev: \(operation): \(String(cString: strerror(code)))"
        case .netlink(let operation, let code):
            return "rtnetlink \(operation): \(String(cString: strerror(code)))"
        }
    }
}

/// Seconds with one decimal, for messages.
func formatSeconds(_ seconds: Double) -> String {
    let tenths = Int((seconds * 10).rounded())
    return "\(tenths / 10).\(tenths % 10)"
}
