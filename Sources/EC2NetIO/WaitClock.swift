import Glibc

/// Time as a run's waits see it (`--wait-for`'s poll, the DHCPv6 hand-over watch): how
/// long since an origin, and a pause. The running system's is `SystemClock`; tests hand in
/// one that advances only when paused, so a wait of seconds takes none.
public protocol WaitClock: Sendable {
    /// Time since the clock's origin.
    func now() -> Duration
    /// Pauses the run.
    func sleep(_ duration: Duration)
}

/// The monotonic clock and a real pause.
public struct SystemClock: WaitClock {
    private let origin = ContinuousClock.now

    public init() {}

    public func now() -> Duration { ContinuousClock.now - origin }

    public func sleep(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
