import EC2NetCore
import Synchronization

/// A way to read IMDS's `/latest/` tree one path at a time: ec2-netgen's own HTTP client
/// (`IMDSClient`) or systemd's IMDS service (`SystemdIMDSClient`). What a document read
/// fetches, in which order and about which ENI is decided once, over this seam
/// (IMDSTree+Document.swift, IMDSTree+Wait.swift).
protocol IMDSTree: AnyObject, Sendable {
    /// What one worker reads through: a connection of its own.
    associatedtype Channel
    /// Workers reading at once.
    var parallelism: Int { get }
    /// The link requests about no one ENI leave from (the primary's), when known.
    var defaultSource: String? { get }
    /// Where the tree is read from, for messages.
    var endpointText: String { get }
    func makeChannel() -> Channel
    /// What a document read does once before its workers start (the session token), so
    /// they share it.
    func begin(on channel: Channel) throws(IOError)
    /// The text at `/latest/<path>`; nil when it is absent and `allowMissing`. `source`
    /// is the link of the ENI the request is about, which it leaves from when it can.
    func get(_ path: String, on channel: Channel, via source: String?, allowMissing: Bool) throws(IOError) -> String?
}

extension IMDSTree {
    /// Runs `jobs` on up to `parallelism` workers, each with its own channel; returns
    /// results in job order or the first error.
    func parallel<Job: Sendable, T: Sendable>(_ jobs: [Job], channels: ChannelPool<Channel>,
                                              _ body: @escaping @Sendable (Job, Channel) throws(IOError) -> T) throws(IOError) -> [T] {
        let results = Mutex<[Int: Result<T, IOError>]>([:])
        let next = Atomic<Int>(0)
        let workers = min(channels.count, jobs.count)
        WorkerThreads.run(workers) { worker in
            let channel = channels.channel(worker)
            while true {
                let index = next.add(1, ordering: .relaxed).oldValue
                guard index < jobs.count else { return }
                let result: Result<T, IOError>
                do throws(IOError) { result = .success(try body(jobs[index], channel)) } catch { result = .failure(error) }
                results.withLock { $0[index] = result }
                if case .failure = result { next.store(jobs.count, ordering: .relaxed) }
            }
        }
        return try results.withLock { (all: inout [Int: Result<T, IOError>]) throws(IOError) -> [T] in
            var ordered: [T] = []
            for index in jobs.indices {
                switch all[index] {
                case .success(let value)?: ordered.append(value)
                case .failure(let error)?: throw error
                case nil: break  // skipped after another job failed
                }
            }
            return ordered
        }
    }
}

/// Channels, one per worker. `@unchecked Sendable` because worker `i` only ever touches
/// channel `i`, so no channel is used by two threads at once.
final class ChannelPool<Channel>: @unchecked Sendable {
    private let channels: [Channel]

    init<Tree: IMDSTree>(_ tree: Tree) where Tree.Channel == Channel {
        channels = (0..<max(1, tree.parallelism)).map { _ in tree.makeChannel() }
    }

    var count: Int { channels.count }

    func channel(_ index: Int) -> Channel { channels[index] }
}
