import EC2NetCore
import EC2NetFS
import EC2NetIO
import EC2NetOps
import EC2NetTestSupport
import Foundation
import Testing

/// The apply operation with its side effects replaced by recording fakes: what it tells
/// networkd, udev and the journal, and when.
@Suite(.serialized)
struct ApplyOperationTests {
    @Test("apply tells networkd, udev and the journal only what changed, and nothing on a second run")
    func effectsOnlyOnChange() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let networkd = RecordingNetworkd(), trigger = RecordingTrigger(), log = RecordingLog()
        let effects = SystemEffects(networkd: networkd, trigger: trigger, log: log)
        let first = try apply(ThreeENIs.applyRequest(root: root), effects: effects)
        #expect(first.reload == .reloaded && networkd.reloads == 1)
        #expect(trigger.calls == ["reload", "ens5", "ens6", "ens7"], "udevd must re-read the .link files before the events")
        #expect(log.events.map(\.0) == [.eniConfigured, .eniConfigured, .eniConfigured])
        #expect(log.events.map(\.1) == ["eni-0a1b2c3d4e5f60001", "eni-0a1b2c3d4e5f60002", "eni-0a1b2c3d4e5f60003"])
        let second = try apply(ThreeENIs.applyRequest(root: root), effects: effects)
        #expect(second.reload == nil && networkd.reloads == 1, "a no-change apply reloaded networkd")
        #expect(trigger.calls.count == 4 && log.events.count == 3)
        #expect(second.lines().last == "no change: 8 files up to date")  // 3 ENIs' .network and .link, loopback, catch-all
    }

    @Test("the boot path has udevd re-read the .link files but sends no event: coldplug follows")
    func bootReloadsOnly() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let trigger = RecordingTrigger()
        var request = try ThreeENIs.applyRequest(root: root)
        request.retriggerLinks = false
        let report = try apply(request, effects: SystemEffects(trigger: trigger))
        #expect(trigger.calls == ["reload"] && report.warnings.isEmpty)
    }

    @Test("first boot (no cache): on a locked systemd-imds host only the catch-all is written, nothing removed; else nothing")
    func firstBootWithoutCache() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        var request = try ThreeENIs.applyRequest(root: root)
        request.source = .cache
        #expect(throws: ApplyError.self, "a hand-run --cached without a cache still says so") {
            try apply(request, effects: .none)
        }
        request.includeAbsentLinks = true
        let off = try apply(request, effects: .none)
        #expect(!off.sync.changed && off.plan.interfaces.isEmpty)
        // A file of an earlier run stays: without metadata nothing is known to be stale.
        let directory = ManagedDirectory(root: root.path)
        let earlier = Artifact(name: Artifact.networkFileName(for: MACAddress("02:00:00:00:00:09")!),
                               contents: Artifact.headerLine + "\n[Match]\nName=ens9\n")
        _ = try directory.sync([earlier])
        request.options.imdsNetworking = .locked
        let networkd = RecordingNetworkd()
        let locked = try apply(request, effects: SystemEffects(networkd: networkd))
        #expect(locked.sync.created == [Artifact.catchAllName] && locked.sync.removed.isEmpty)
        #expect(try directory.managedFiles().sorted() == [earlier.name, Artifact.catchAllName].sorted())
        #expect(networkd.reloads == 1)
        let written = try String(contentsOfFile: directory.path + "/" + Artifact.catchAllName, encoding: .utf8)
        #expect(written.contains("Type=prohibit"))
    }

    @Test("a udevd that cannot reload costs at most the altnames: a warning that says so, and the events still go out")
    func reloadFailure() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let trigger = RefusingTrigger()
        let report = try apply(ThreeENIs.applyRequest(root: root), effects: SystemEffects(trigger: trigger))
        #expect(report.sync.created.count == 8 && trigger.triggered == ["ens5", "ens6", "ens7"])
        #expect(report.warnings == ["udev: udevadm control --reload exited with 1 (the re-sent add events may still get the old .link; it applies at the link's next add event)"])
    }

    @Test("apply with SystemEffects.none writes the files and touches nothing else")
    func noEffects() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let report = try apply(ThreeENIs.applyRequest(root: root), effects: .none)
        #expect(report.reload == nil && report.sync.created.count == 8)
    }
}
