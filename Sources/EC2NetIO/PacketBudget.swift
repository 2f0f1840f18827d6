import Glibc
import Synchronization

/// A token bucket of packets for one source of IMDS traffic (one ENI), shared by every
/// ec2-netgen process on the machine.
///
/// EC2 polices link-local traffic (IMDS, the DNS resolver and time sync together) at 1024
/// packets per second per ENI and drops what exceeds it; a dropped SYN costs a whole
/// connect timeout. The client takes under half of that rate and a small burst, leaving
/// the rest to DNS and NTP. Why it is never policed: by any time `t` the client has sent
/// at most `burst + rate·t` packets from the ENI, while a policer with rate 1024/s and a
/// burst of at least `burst` packets admits `burst + 1024·t`; with `rate ≤ 1024` the first
/// never exceeds the second. In any one-second window the client sends at most
/// `burst + rate`, which the defaults hold to 512.
///
/// That bound holds only if every process draws on the same bucket: an attach storm
/// starts one `apply` per new link, each polling IMDS before it takes the run lock. So the
/// bucket's level lives in a small file (`ROOT/run/ec2-netgen/imds-budget.NAME`), read
/// and written under flock; where that file cannot be opened the bucket is the
/// process's own.
public final class PacketBudget: Sendable {
    /// Packets per second, refilled continuously.
    public let rate: Double
    /// The bucket's size: the most packets sent back to back.
    public let burst: Double
    /// The shared state file's descriptor, or -1 for a bucket of this process only.
    private let fd: Int32
    private let local: Mutex<(tokens: Double, stamp: Int64)>

    /// A bucket, full unless `stateFile` already holds a level.
    public init(rate: Double, burst: Double, stateFile: String? = nil) {
        self.rate = rate
        self.burst = burst
        let descriptor = stateFile.map { open($0, O_RDWR | O_CREAT | O_CLOEXEC, 0o644) } ?? -1
        if descriptor >= 0 { fchmod(descriptor, 0o644) }  // whatever the umask, as every file ec2-netgen writes
        fd = descriptor
        local = Mutex((burst, Self.now()))
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Takes `packets` from the bucket, sleeping until they are there. Returns the time
    /// slept, so the client can report what pacing cost.
    @discardableResult
    public func take(_ packets: Double) -> Duration {
        var waited = Duration.zero
        while true {
            let wait = local.withLock { state in
                // The in-process lock also keeps two threads off the file at once (flock
                // locks the open file description, which the threads share).
                if fd >= 0, flock(fd, LOCK_EX) == 0 {
                    defer { flock(fd, LOCK_UN) }
                    var level = readLevel() ?? (burst, Self.now())
                    let wait = draw(packets, from: &level)
                    writeLevel(level)
                    return wait
                }
                var level = state
                let wait = draw(packets, from: &level)
                state = level
                return wait
            }
            if wait == 0 { return waited }
            usleep(useconds_t(max(wait, 0.0005) * 1_000_000))
            waited += .microseconds(Int(wait * 1_000_000))
        }
    }

    /// Refills by the time passed and takes `packets` if they are there; else returns the
    /// seconds until they will be.
    private func draw(_ packets: Double, from level: inout (tokens: Double, stamp: Int64)) -> Double {
        let now = Self.now()
        let seconds = Double(max(0, now - level.stamp)) / 1e9
        level = (min(burst, level.tokens + seconds * rate), now)
        if level.tokens >= packets {
            level.tokens -= packets
            return 0
        }
        return (packets - level.tokens) / rate
    }

    /// The level in the file: tokens as a Double's bits, then the CLOCK_MONOTONIC stamp in
    /// nanoseconds (the file is in /run, so it never outlives the boot whose clock it uses).
    private func readLevel() -> (tokens: Double, stamp: Int64)? {
        var record: (UInt64, Int64) = (0, 0)
        let count = withUnsafeMutableBytes(of: &record) { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count == MemoryLayout<(UInt64, Int64)>.size else { return nil }
        let tokens = Double(bitPattern: record.0)
        guard tokens.isFinite, tokens <= burst else { return nil }
        return (tokens, record.1)
    }

    private func writeLevel(_ level: (tokens: Double, stamp: Int64)) {
        var record: (UInt64, Int64) = (level.tokens.bitPattern, level.stamp)
        _ = withUnsafeBytes(of: &record) { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    private static func now() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }
}
