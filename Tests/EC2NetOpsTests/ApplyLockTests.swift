import EC2NetCore
import EC2NetHTTP
import EC2NetIO
import EC2NetOps
import EC2NetTestSupport
import Foundation
import Testing

/// Serialisation: a run waiting for the lock has not touched IMDS yet.
@Suite(.serialized)
struct ApplyLockTests {
    @Test("apply waits for the lock before any IMDS request, says so, then completes")
    func waitsBeforeIMDS() throws {
        let stub = try StubIMDS(document: try ThreeENIs.document())
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("run/ec2-netgen"), withIntermediateDirectories: true)
        let lockPath = root.appendingPathComponent("run/ec2-netgen/lock").path
        let fd = open(lockPath, O_RDWR | O_CREAT, 0o644)
        #expect(fd >= 0)
        #expect(flock(fd, LOCK_EX) == 0)
        let links = try Link.parseList(Array(try Data(contentsOf: URL(fileURLWithPath: ThreeENIs.links))), source: ThreeENIs.links)
        let client = IMDSClient(configuration: IMDSConfiguration(endpoint: try #require(HTTPEndpoint(url: stub.endpoint))))
        var request = ApplyRequest(source: .imds(client, attached: nil), root: root.path, links: links, options: PlanOptions())
        let waiting = DispatchSemaphore(value: 0), finished = DispatchSemaphore(value: 0)
        let told = Locked<String?>(nil), outcome = Locked<String?>(nil)
        request.whileWaitingForLock = { path in
            told.set(path)
            waiting.signal()
        }
        let shared = Locked(request)
        let run = Thread {
            do {
                _ = try apply(shared.get(), effects: .none)
                outcome.set("applied")
            } catch {
                outcome.set("\(error)")
            }
            finished.signal()
        }
        run.start()
        waiting.wait()
        #expect(told.get() == lockPath)
        #expect(try stub.requests().isEmpty, "apply talked to IMDS while waiting for the lock")
        #expect(outcome.get() == nil, "apply went on while the lock was held")
        flock(fd, LOCK_UN)
        close(fd)
        finished.wait()
        #expect(outcome.get() == "applied")
        #expect(try stub.requests().count == 35)
    }
}
