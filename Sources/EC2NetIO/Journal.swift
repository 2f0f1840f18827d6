import CSystemd
import Glibc

/// Structured journal entries for what operators search for (`journalctl MESSAGE_ID=…`,
/// `EC2_ENI_ID=…`). Used only when stderr is connected to the journal (`JOURNAL_STREAM`);
/// the plain report still goes to stdout/stderr, so nothing is lost without journald.
public enum Journal {
    /// Stable ids of the events, so alerting can key on them; made with
    /// `systemd-id128 new`, and explained by `catalog/ec2-netgen.catalog`
    /// (`journalctl -x`). They never change: operators' alerts match them.
    public enum Event: String, Sendable {
        case eniConfigured = "49a24502605e4ebe993e67e51b6c3eed"
        case eniRemoved = "6729ea5853154198beccfabc40f7f662"
        case imdsFailed = "a499d35e262f4fff96f3e4c09272a633"
    }

    /// True when stderr is the journal (systemd sets `JOURNAL_STREAM` for services).
    public static var isConnected: Bool { getenv("JOURNAL_STREAM") != nil }

    /// Sends one entry with its message id and extra `KEY=value` fields.
    public static func send(_ event: Event, priority: Int32 = LOG_INFO, message: String, fields: [String: String] = [:]) {
        guard isConnected else { return }
        var lines = ["MESSAGE=" + message, "MESSAGE_ID=" + event.rawValue, "PRIORITY=\(priority)",
                     "SYSLOG_IDENTIFIER=ec2-netgen"]
        for key in fields.keys.sorted() {
            // Field values are single-line by construction; a newline would split the entry.
            lines.append(key + "=" + fields[key, default: ""].split(separator: "\n").joined(separator: " "))
        }
        // Each field in its own allocation, freed after the call: the iovecs must point at
        // memory that stays put for the whole call.
        let storage = lines.map { line -> UnsafeMutableBufferPointer<UInt8> in
            let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: line.utf8.count)
            _ = buffer.initialize(from: line.utf8)
            return buffer
        }
        defer { storage.forEach { $0.deallocate() } }
        let vectors = storage.map { iovec(iov_base: UnsafeMutableRawPointer($0.baseAddress), iov_len: $0.count) }
        _ = ec2netgen_journal_sendv(vectors, Int32(vectors.count))
    }
}
