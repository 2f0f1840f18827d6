import EC2NetIO
import Foundation

/// A clock that moves only when the code under test pauses: a wait of seconds takes none,
/// and what happens "during" a pause (IMDS catching up, an address arriving) is run at
/// that virtual moment by `onSleep`.
final class TestClock: WaitClock, @unchecked Sendable {
    private let lock = NSLock()
    private var elapsed: Duration = .zero
    private(set) var sleeps: [Duration] = []
    /// Called after each pause with the pauses so far.
    var onSleep: (Int) -> Void = { _ in }

    func now() -> Duration { lock.withLock { elapsed } }

    func sleep(_ duration: Duration) {
        let count = lock.withLock {
            elapsed += duration
            sleeps.append(duration)
            return sleeps.count
        }
        onSleep(count)
    }
}
