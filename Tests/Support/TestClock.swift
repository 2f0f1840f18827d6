import EC2NetIO
import Foundation

/// A clock that moves only when the code under test pauses: a wait of seconds takes none,
/// and what happens "during" a pause (IMDS catching up, an address arriving) is run at
/// that virtual moment by `onSleep`.
public final class TestClock: WaitClock, @unchecked Sendable {
    public init() {}
    private let lock = NSLock()
    private var elapsed: Duration = .zero
    public private(set) var sleeps: [Duration] = []
    /// Called after each pause with the pauses so far.
    public var onSleep: (Int) -> Void = { _ in }

    public func now() -> Duration { lock.withLock { elapsed } }

    public func sleep(_ duration: Duration) {
        let count = lock.withLock {
            elapsed += duration
            sleeps.append(duration)
            return sleeps.count
        }
        onSleep(count)
    }
}
