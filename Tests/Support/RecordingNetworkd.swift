import EC2NetCore
import EC2NetIO
import EC2NetOps

/// Recording fakes of the system seams: they remember every call and answer as told.
public final class RecordingNetworkd: NetworkdService {
    public init() {}
    public var reloads = 0
    public var running = true
    public var applied: [Int: String] = [:]
    /// Setup state per ifindex; links not listed are "configured".
    public var states: [Int: String] = [:]
    public var reconfigured: [Int] = []
    /// Runs on each reconfigure (a fake kernel puts addresses back).
    public var onReconfigure: (Int) -> Void = { _ in }
    /// Runs on each reload, before it returns (networkd reconfigures links meanwhile).
    public var onReload: () -> Void = {}
    public func reload() throws(IOError) -> ReloadOutcome {
        reloads += 1
        onReload()
        return running ? .reloaded : .notRunning
    }
    public func isRunning() -> Bool { running }
    public func appliedNetworkFile(ifindex: Int) -> String? { applied[ifindex] }
    public func setupState(ifindex: Int) -> String? { states[ifindex] ?? "configured" }
    public func reconfigure(ifindex: Int) throws(IOError) {
        reconfigured.append(ifindex)
        onReconfigure(ifindex)
    }
}
