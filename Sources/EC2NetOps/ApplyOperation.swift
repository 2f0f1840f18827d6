import EC2NetCore
import EC2NetFS
import EC2NetIO
import Glibc

/// What `apply` is asked to do. Every decision of an apply is made in `apply(_:effects:)`
/// below from these values; the command only builds them from its flags.
public struct ApplyRequest {
    public var source: MetadataSource
    /// Everything read and written lives under it ("/" on an instance).
    public var root: String
    /// The links present now.
    public var links: [Link]
    /// The configuration.
    public var options: PlanOptions
    /// Render every ENI of the metadata, whether or not its link exists yet (the boot
    /// path, before udev coldplug).
    public var includeAbsentLinks = false
    /// Problems of a leniently read configuration, reported with the result.
    public var configurationProblems: [ConfigurationProblem] = []
    /// Also report the change as a unified diff (`apply --diff`).
    public var reportDiff = false
    /// The boot path after cloud-init's local stage: plan from cloud-init's read of IMDS
    /// when it describes another instance than the cache (CloudInitMetadata.swift).
    public var fromCloudInit = false
    /// Re-fire udev `add` for links whose `.link` file changed. The boot path does not:
    /// it runs before coldplug, whose `add` events apply the files anyway (and its sandbox
    /// keeps /sys read-only); it only has udevd re-read them before coldplug starts.
    public var retriggerLinks = true
    /// How long after the reload to watch an IPv6-only ENI taken over from the DHCP
    /// catch-all, and how long its addresses must stay (see DHCPv6Handover.swift).
    public var handoverLimit: Duration = .seconds(8)
    public var handoverSettle: Duration = .seconds(1)
    /// How long an IPv6 ENI about to get its first file waits for its router's
    /// advertisement (RouterLearning.swift); zero does not wait. A new link's first RA
    /// comes after its link-local address passes DAD (about 1 s) and a solicitation
    /// delay of up to 1 s, so about 2 s after the link is up: the wait must outlast that.
    public var routerWait: Duration = .seconds(5)
    /// How long an apply that brings static addresses onto a link waits for their rules
    /// and table before adding them (AddressStaging.swift). networkd installs them within
    /// milliseconds of the reload; the bound is for a networkd that does not.
    public var stagingLimit: Duration = .seconds(3)
    /// Called with the lock's path when another run holds it, before this one waits.
    public var whileWaitingForLock: ((String) -> Void)?

    public init(source: MetadataSource, root: String, links: [Link], options: PlanOptions) {
        self.source = source
        self.root = root
        self.links = links
        self.options = options
    }
}

/// What an apply did, for the command to print.
public struct ApplyReport {
    public var plan: Plan
    public var sync: SyncReport
    /// The managed directory.
    public var directory: String
    /// The IMDS read's cost (live reads only).
    public var imdsSummary: String?
    /// nil when nothing changed or no reload was allowed.
    public var reload: ReloadOutcome?
    /// Things the operator should know that did not stop the run.
    public var warnings: [String] = []
    /// What changed, as a unified diff (only when asked).
    public var diff: String?
}

/// A failure of the operation itself (the layers' own errors pass through unchanged).
public enum ApplyError: Error, CustomStringConvertible {
    /// `--cached` with no cache.
    case noCache(path: String)
    /// IMDS served metadata that does not parse: a failure of the service (exit 1).
    case unusableMetadata(endpoint: String, error: InputError)
    /// The files were written but networkd could not be told.
    case reloadFailed(IOError)
    /// `plan` was given no document and no IMDS (the cache is apply's input only).
    case previewNeedsDocument

    public var description: String {
        switch self {
        case .noCache(let path): return "--cached: no metadata cache at \(path) (no successful live apply yet)"
        case .unusableMetadata(let endpoint, let error): return "IMDS \(endpoint) returned unusable metadata: \(error)"
        case .reloadFailed(let error): return "files were written, but \(error)"
        case .previewNeedsDocument: return "plan reads --metadata FILE or IMDS"
        }
    }
}

/// The one idempotent operation every entry point funnels into: read the metadata, plan,
/// commit (the managed files, then the learned routers, the cache and the record), then
/// notify networkd, udev and the journal through `effects` — only what `effects`
/// provides. Serialised by the run lock.
public func apply(_ request: ApplyRequest, effects: SystemEffects) throws -> ApplyReport {
    let lock = try RunLock(root: request.root, whileWaiting: request.whileWaitingForLock)
    defer { withExtendedLifetime(lock) {} }
    var readWarnings: [String] = []
    guard let metadata = try readMetadata(request, effects: effects, warnings: &readWarnings) else {
        var report = try applyFirstBoot(request, effects: effects)
        report.warnings = readWarnings + report.warnings
        return report
    }
    let (plan, options, knownRouters) = try planApply(request, instance: metadata.instance, effects: effects)
    // The links' addresses before this apply changes anything: which addresses arrive,
    // and which an IPv6-only ENI's hand-over has already seen.
    let present = effects.kernel.flatMap { try? $0.addresses() }
    var report = try commit(plan, metadata: metadata, request: request, routers: options.ipv6Routers, knownRouters: knownRouters,
                            effects: effects, present: present)
    report.warnings = readWarnings + report.warnings
    report.warnings += request.configurationProblems.map { "ignoring \($0)" }
    report.warnings += unmatchedOverrides(options, plan: plan, links: request.links)
    try notify(&report, request: request, effects: effects, present: present)
    return report
}

/// The metadata an apply plans from, as read.
struct ReadMetadata {
    var document: MetadataDocument
    var instance: Instance
    /// What the document was read from, when it was read from bytes.
    var bytes: [UInt8]?
    /// The IMDS read's cost (live reads only).
    var imdsSummary: String?
    var fromIMDS: Bool
}

/// Step 1, read: the given document, the cache (or, asked to, cloud-init's read of this
/// boot), or IMDS. nil for the boot path with no cache yet (first boot). A failed IMDS
/// read is journalled and recorded for `status`; what was ignored goes to `warnings`.
func readMetadata(_ request: ApplyRequest, effects: SystemEffects, warnings: inout [String]) throws -> ReadMetadata? {
    let cache = MetadataCache(root: request.root)
    switch request.source {
    case .document(let given, _, let bytes):
        return ReadMetadata(document: given, instance: try parse(given), bytes: bytes, fromIMDS: false)
    case .cache:
        var cached: ReadMetadata?
        if let bytes = try cache.load() {
            let document = try MetadataDocument(bytes: bytes, source: cache.path)
            cached = ReadMetadata(document: document, instance: try parse(document), bytes: bytes, fromIMDS: false)
        }
        if request.fromCloudInit {
            let (fresh, warning) = cloudInitMetadata(root: request.root, cached: cached)
            if let warning { warnings.append(warning) }
            if let fresh { return fresh }
        }
        guard let cached else {
            guard request.includeAbsentLinks else { throw ApplyError.noCache(path: cache.path) }
            return nil
        }
        return cached
    case .imds(let client, let attached):
        let start = ContinuousClock.now
        do {
            let document = try client.fetchDocument(previous: cachedDocument(cache), only: attached,
                                                    sourceLinks: sourceLinks(request.links))
            return ReadMetadata(document: document, instance: try parseServed(document, by: client),
                                imdsSummary: client.costSummary(milliseconds: millisecondsSince(start)), fromIMDS: true)
        } catch {
            effects.log?.record(.imdsFailed, priority: LOG_ERR, message: "IMDS read failed, nothing changed: \(error)", fields: [:])
            LastRun(root: request.root).record(ok: false, detail: "\(error)")
            throw error
        }
    }
}

/// Step 2, plan: the configuration with the IPv6 routers known now. The routers file is
/// read again under the run lock: a concurrent apply may have learned since the options
/// were loaded, and planning from the older file would undo its route. An IPv6 ENI about
/// to get its first file waits a moment for its router (RouterLearning.swift).
func planApply(_ request: ApplyRequest, instance: Instance, effects: SystemEffects) throws
    -> (Plan, PlanOptions, knownRouters: [MACAddress: IPv6Address])
{
    var options = request.options
    options.includeAbsentLinks = request.includeAbsentLinks
    let knownRouters = LearnedRouters(root: request.root).load()
    var routers = learnRouters(known: knownRouters, kernel: effects.kernel, links: request.links, instance: instance)
    if let kernel = effects.kernel, request.routerWait > .zero {
        let files = Set((try? ManagedDirectory(root: request.root).managedFiles()) ?? [])
        let awaited = routersAwaited(instance, links: request.links, routers: routers, files: files)
        if !awaited.isEmpty {
            routers = awaitRouters(awaited, routers: routers, kernel: kernel, links: request.links, clock: effects.clock,
                                   limit: request.routerWait)
        }
    }
    options.ipv6Routers = routers
    return (try EC2NetCore.plan(instance, links: request.links, options: options), options, knownRouters)
}

/// Step 3, commit: the managed files (addresses arriving on a link after their rules,
/// AddressStaging.swift), then what describes them. The learned routers, the
/// cache and the record come after the files: status and the next boot plan with what
/// was saved, and the cache must never describe a state the files do not have yet (a
/// failed read never reaches this step). A read-only /var/lib (the boot service) keeps
/// the routers file as it was. A document the operator gave is recorded for `status`,
/// not cached for the next boot.
func commit(_ plan: Plan, metadata: ReadMetadata, request: ApplyRequest, routers: [MACAddress: IPv6Address],
            knownRouters: [MACAddress: IPv6Address], effects: SystemEffects, present: [Netlink.Address]?) throws -> ApplyReport {
    let root = request.root
    let directory = ManagedDirectory(root: root)
    let diff = request.reportDiff ? pendingChanges(plan, root: root) : nil
    let staged = try stageArrivingAddresses(plan, request: request, effects: effects, present: present)
    var sync = try directory.sync(render(plan), preserve: plan.keptFileNames)
    if let staged { sync = sync.following(staged.sync) }
    if routers != knownRouters { _ = try? LearnedRouters(root: root).save(routers) }
    // The record and the cache hold canonical bytes, and parsing then serializing them
    // gives them back: a document read from exactly the recorded bytes (every boot, every
    // unchanged --metadata run) needs no serializing to compare.
    let record = AppliedRecord(root: root)
    if metadata.bytes.map(record.holds) != true {
        let serialized = metadata.document.serializedBytes()  // once, for the cache and the record
        if metadata.fromIMDS { _ = try MetadataCache(root: root).save(serialized: serialized) }
        record.save(serialized: serialized)
    }
    if let summary = metadata.imdsSummary { LastRun(root: root).record(ok: true, detail: summary) }
    var report = ApplyReport(plan: plan, sync: sync, directory: directory.path, imdsSummary: metadata.imdsSummary)
    report.diff = diff
    report.warnings = staged?.warnings ?? []
    return report
}

/// Step 4, notify: the journal, networkd (only when a file changed), udev for changed
/// `.link` files, and last, since it may watch a link for a second or two, the DHCPv6
/// hand-over of an IPv6-only ENI.
func notify(_ report: inout ApplyReport, request: ApplyRequest, effects: SystemEffects, present: [Netlink.Address]?) throws {
    journal(report.sync, plan: report.plan, log: effects.log)
    let handover = report.sync.changed && effects.networkd != nil
        ? handoverLinks(report.plan, sync: report.sync, links: request.links, present: present) : []
    report.reload = try reloadIfChanged(report.sync, effects: effects)
    if let trigger = effects.trigger {
        report.warnings += retrigger(report.sync, plan: report.plan, trigger: trigger, sendEvents: request.retriggerLinks)
    }
    if report.reload == .reloaded, let networkd = effects.networkd, let kernel = effects.kernel {
        report.warnings += confirmDHCPv6Handover(handover, networkd: networkd, kernel: kernel, clock: effects.clock,
                                                 limit: request.handoverLimit, settle: request.handoverSettle)
    }
}

/// networkd's reload when a file changed and the effects reach networkd.
func reloadIfChanged(_ sync: SyncReport, effects: SystemEffects) throws -> ReloadOutcome? {
    guard sync.changed, let networkd = effects.networkd else { return nil }
    do {
        return try networkd.reload()
    } catch {
        throw ApplyError.reloadFailed(error)
    }
}

/// The boot path before any live apply (first boot): no ENI is known, so the shipped
/// catch-all configures them, and only what belongs to the host is written (the catch-all
/// carrying systemd-imds's lock, IMDSNetworking). Nothing is removed: without metadata
/// no file can be judged stale.
func applyFirstBoot(_ request: ApplyRequest, effects: SystemEffects) throws -> ApplyReport {
    var plan = Plan(instanceID: nil, interfaces: [], mainRules: [], skipped: [])
    plan.imdsNetworking = request.options.imdsNetworking
    let directory = ManagedDirectory(root: request.root)
    let sync = try directory.sync(render(plan), preserve: Set(try directory.managedFiles()))
    var report = ApplyReport(plan: plan, sync: sync, directory: directory.path)
    report.warnings += request.configurationProblems.map { "ignoring \($0)" }
    report.reload = try reloadIfChanged(sync, effects: effects)
    return report
}

/// The cached document, or nil when there is none or it does not parse (a broken cache
/// costs only a full read).
func cachedDocument(_ cache: MetadataCache) -> MetadataDocument? {
    guard let bytes = (try? cache.load()).flatMap({ $0 }) else { return nil }
    return try? MetadataDocument(bytes: bytes, source: cache.path)
}

/// MAC → the link that carries that ENI, for sending its IMDS requests from it.
public func sourceLinks(_ links: [Link]) -> [MACAddress: String] {
    var result: [MACAddress: String] = [:]
    for link in links where result[link.mac] == nil {
        result[link.mac] = enaLink(for: link.mac, in: links)?.name
    }
    return result
}

/// An `[Interface]` section that matches no ENI of the metadata is likely a typo: warn,
/// never fail (the ENI may simply not be attached yet).
func unmatchedOverrides(_ options: PlanOptions, plan: Plan, links: [Link]) -> [String] {
    var warnings: [String] = []
    let macs = Set(plan.interfaces.map(\.mac) + plan.skipped.map(\.mac))
    let ids = Set(plan.interfaces.compactMap(\.interfaceID) + plan.skipped.compactMap(\.interfaceID))
    let names = Set(links.filter { macs.contains($0.mac) }.map(\.name))
    for override in options.overrides {
        let matches: Bool
        switch override.selector {
        case .mac(let mac): matches = macs.contains(mac)
        case .interfaceID(let id): matches = ids.contains(id)
        case .linkName(let name): matches = names.contains(name)
        }
        if !matches { warnings.append("[Interface] \(describe(override.selector)) matches no ENI of this instance") }
    }
    return warnings
}

func describe(_ selector: InterfaceSelector) -> String {
    switch selector {
    case .mac(let mac): return "MACAddress=\(mac)"
    case .interfaceID(let id): return "InterfaceId=\(id)"
    case .linkName(let name): return "Name=\(name)"
    }
}

/// When a `.link` file is new or changed, has udevd re-read its configuration (once), then
/// re-fires `add` for each such link that exists, so alternative names apply now; without
/// the reload first, the event raced udevd's own check and often got the old `.link`.
/// Best effort: a failure costs only the altnames until the link's next add event, and is
/// returned as a warning saying so.
func retrigger(_ sync: SyncReport, plan: Plan, trigger: LinkTrigger, sendEvents: Bool) -> [String] {
    let changed = Set(sync.created + sync.updated)
    let linkFiles = plan.interfaces.map { Artifact.linkFileName(for: $0.mac) }
    // A removed .link file matters too: udevd must stop applying it to a re-added link.
    guard linkFiles.contains(where: changed.contains) || sync.removed.contains(where: { $0.hasSuffix(".link") }) else { return [] }
    var warnings: [String] = []
    do {
        try trigger.reloadConfiguration()
    } catch {
        // The events are still sent: udevd may notice the files by itself in time.
        warnings.append("\(error) (the re-sent add events may still get the old .link; it applies at the link's next add event)")
    }
    guard sendEvents else { return warnings }
    for interface in plan.interfaces where changed.contains(Artifact.linkFileName(for: interface.mac)) {
        guard let name = interface.linkName else { continue }
        do {
            try trigger.triggerAdd(link: name)
        } catch {
            warnings.append("\(error) (alternative names apply at the link's next add event)")
        }
    }
    return warnings
}

/// Journal entries per ENI whose files changed, keyed for `journalctl EC2_ENI_ID=…`.
func journal(_ sync: SyncReport, plan: Plan, log: EventLog?) {
    guard let log else { return }
    let written = Set(sync.created + sync.updated)
    for interface in plan.interfaces where written.contains(Artifact.networkFileName(for: interface.mac)) {
        var fields = ["EC2_MAC": interface.mac.description, "EC2_TABLE": "\(interface.table)"]
        if let id = interface.interfaceID { fields["EC2_ENI_ID"] = id }
        if let name = interface.linkName { fields["INTERFACE"] = name }
        log.record(.eniConfigured, priority: LOG_INFO,
                   message: "ENI \(interface.interfaceID ?? interface.mac.description) configured: table \(interface.table)",
                   fields: fields)
    }
    for name in sync.removed where name.hasSuffix(".network") {
        log.record(.eniRemoved, priority: LOG_INFO, message: "removed \(name)", fields: ["EC2_FILE": name])
    }
}

/// Milliseconds since `start`.
public func millisecondsSince(_ start: ContinuousClock.Instant) -> Int {
    let elapsed = ContinuousClock.now - start
    return Int(elapsed.components.seconds * 1000) + Int(elapsed.components.attoseconds / 1_000_000_000_000_000)
}
