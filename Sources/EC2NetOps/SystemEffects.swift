import EC2NetCore
import EC2NetIO

/// The side effects an operation may have outside its root directory, one small protocol
/// per system seam, so tests hand in recording fakes and `--root` runs hand in none.

/// systemd-networkd over D-Bus.
public protocol NetworkdService {
    /// `Reload`; `.notRunning` when networkd is not on the bus (it reads the files when
    /// it starts, so that is no failure).
    func reload() throws(IOError) -> ReloadOutcome
    /// Whether networkd answers on the bus at all.
    func isRunning() -> Bool
    /// The `.network` file networkd applied to a link, or nil when it does not say.
    func appliedNetworkFile(ifindex: Int) -> String?
    /// networkd's setup state of a link (`configuring`, `configured`, `failed`…), or nil
    /// when it does not say.
    func setupState(ifindex: Int) -> String?
    /// `ReconfigureLink`: apply the link's `.network` again.
    func reconfigure(ifindex: Int) throws(IOError)
}

/// What a reload did.
public enum ReloadOutcome: Equatable, Sendable {
    case reloaded
    case notRunning
}

/// udev: make a new `.link` file (altnames) apply now: udevd re-reads its configuration,
/// then an `add` is re-fired for the link.
public protocol LinkTrigger {
    func reloadConfiguration() throws(IOError)
    func triggerAdd(link: String) throws(IOError)
}

/// The journal's structured entries.
public protocol EventLog {
    func record(_ event: Journal.Event, priority: Int32, message: String, fields: [String: String])
}

/// The kernel's routing policy, routes and addresses, over rtnetlink (read only).
public protocol KernelState {
    func rules() throws(IOError) -> [RoutingPolicyRule]
    func routes() throws(IOError) -> [Netlink.Route]
    func nexthops() throws(IOError) -> [Netlink.Nexthop]
    func addresses() throws(IOError) -> [Netlink.Address]
}

/// The seams an operation may use; nil means "do not touch that part of the system".
public struct SystemEffects {
    public var networkd: NetworkdService?
    public var trigger: LinkTrigger?
    public var log: EventLog?
    public var kernel: KernelState?
    /// What the operation's waits run on: the real clock unless a test hands in its own.
    public var clock: WaitClock

    public init(networkd: NetworkdService? = nil, trigger: LinkTrigger? = nil, log: EventLog? = nil, kernel: KernelState? = nil,
                clock: WaitClock = SystemClock()) {
        self.networkd = networkd
        self.trigger = trigger
        self.log = log
        self.kernel = kernel
        self.clock = clock
    }

    /// Nothing outside the root: what `--root DIR` gets.
    public static var none: SystemEffects { SystemEffects() }

    /// The running system.
    public static var live: SystemEffects {
        SystemEffects(networkd: LiveNetworkd(), trigger: LiveUdev(), log: LiveJournal(), kernel: LiveKernel())
    }

    /// Whether a root directory is the running system: only `/` is. Any other root (an
    /// image, a test tree) gets its files read and written and nothing else touched.
    public static func isRunningSystem(root: String) -> Bool { root == "/" }

    /// The effects a run under `root` may have: the running system's on `/`, none elsewhere.
    public static func forRoot(_ root: String) -> SystemEffects { isRunningSystem(root: root) ? .live : .none }
}
