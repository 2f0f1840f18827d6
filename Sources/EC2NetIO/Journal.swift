import CSystemd
import Glibc

/// Structured journal entries for what operators search for (`journalctl MESSAGE_ID=…`,
/// `EC2_ENI_ID=…`). Used only when stderr is connected to the journal (`JOURNAL_STREAM`);
/// the plain report still goes to stdout/stderr, so nothing is lost without journald.
public enum Journal {
    /// Stable ids of the events, so alerting can key on them.
    public enum Event: String, Sendable {
        case eniConfigured = "6f1c3b2a9d8e4c7f8a5b0e1d2c3f4a5b"
        case eniRemoved = "0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d"
        case imdsFailed = "d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9"
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
