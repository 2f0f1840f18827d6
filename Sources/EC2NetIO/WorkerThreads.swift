import Glibc

/// Runs `count` blocking workers on their own threads and waits for all of them.
/// Dispatch's concurrentPerform sizes itself to the CPU count (2 here), which would cap
/// in-flight IMDS requests at 2; blocking network I/O needs one thread per connection.
enum WorkerThreads {
    /// The closure a thread runs, boxed so it can travel through pthread's `void *`.
    private final class Job: @unchecked Sendable {
        let body: @Sendable (Int) -> Void
        let index: Int
        init(body: @escaping @Sendable (Int) -> Void, index: Int) {
            self.body = body
            self.index = index
        }
    }

    /// Calls `body(0..<count)` concurrently; returns when every call has returned. Falls
    /// back to running a worker inline if a thread cannot be created.
    static func run(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        var threads: [pthread_t] = []
        for index in 0..<count {
            let job = Unmanaged.passRetained(Job(body: body, index: index)).toOpaque()
            var thread = pthread_t()
            let result = pthread_create(&thread, nil, { context in
                guard let context else { return nil }
                let job = Unmanaged<Job>.fromOpaque(context).takeRetainedValue()
                job.body(job.index)
                return nil
            }, job)
            if result == 0 {
                threads.append(thread)
            } else {
                let inline = Unmanaged<Job>.fromOpaque(job).takeRetainedValue()
                inline.body(inline.index)
            }
        }
        for thread in threads { pthread_join(thread, nil) }
    }
}
