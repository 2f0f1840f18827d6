import Glibc
import Synchronization

/// A token bucket of packets for one source of IMDS traffic (one ENI).
///
/// EC2 polices link-local traffic (IMDS, the DNS resolver and time sync together) at 1024
/// packets per second per ENI and drops what exceeds it; a dropped SYN costs a whole
/// connect timeout. The client takes half of that rate and a small burst, leaving the
/// rest to DNS and NTP. Why it can never be policed: by any time `t` the client has sent
/// at most `burst + rate·t` packets from the ENI, while a policer with rate 1024/s and a
/// burst of at least `burst` packets admits `burst + 1024·t`; with `rate ≤ 1024` the first
/// never exceeds the second. In any one-second window the client sends at most
/// `burst + rate`, which the defaults hold to 512.
public final class PacketBudget: Sendable {
    /// Packets per second, refilled continuously.
    public let rate: Double
    /// The bucket's size: the most packets sent back to back.
    public let burst: Double
    private let level: Mutex<(tokens: Double, stamp: ContinuousClock.Instant)>
    private let clock = ContinuousClock()

    /// A full bucket.
    public init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = burst
        level = Mutex((burst, ContinuousClock.now))
    }

    /// Takes `packets` from the bucket, sleeping until they are there. Returns the time
    /// slept, so the client can report how much pacing cost.
    @discardableResult
    public func take(_ packets: Double) -> Duration {
        var waited = Duration.zero
        while true {
            let wait: Double = level.withLock { state in
                let now = clock.now
                let elapsed = now - state.stamp
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                state.tokens = min(burst, state.tokens + seconds * rate)
                state.stamp = now
                if state.tokens >= packets {
                    state.tokens -= packets
                    return 0
                }
                return (packets - state.tokens) / rate
            }
            if wait == 0 { return waited }
            usleep(useconds_t(max(wait, 0.0005) * 1_000_000))
            waited += .microseconds(Int(wait * 1_000_000))
        }
    }
}
