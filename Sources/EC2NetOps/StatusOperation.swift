import EC2NetCore
import EC2NetFS
import EC2NetIO
import Glibc

/// What `status` checks against.
public struct StatusRequest {
    public var root: String
    public var links: [Link]
    public var options: PlanOptions
    public var configurationProblems: [ConfigurationProblem] = []
    /// Seconds since the epoch now (a value, so tests fix the clock).
    public var now: Int

    public init(root: String, links: [Link], options: PlanOptions, now: Int = Int(time(nil))) {
        self.root = root
        self.links = links
        self.options = options
        self.now = now
    }
}

/// The health check: the plan of the last applied metadata against the files, networkd,
/// the kernel and the last IMDS read. Anything not as planned is a problem, and a problem
/// is never "in sync": an ENI of the metadata left unconfigured, a missing, edited or
/// unexpected file, kernel drift, networkd not running or applying another file, a
/// failed last read, or a last good read older than three refresh intervals. Each ENI's
/// state carries the problems found for it, so it agrees with the total.
public func status(_ request: StatusRequest, effects: SystemEffects) -> StatusReport {
    var report = StatusReport(problems: [])
    report.options = request.options
    report.notes += request.configurationProblems.map { "configuration: ignoring \($0)" }
    let plan: Plan
    let source: String
    switch plannedForStatus(request) {
    case .failure(let problem):
        report.problems.append(problem)
        return report
    case .success(let planned):
        (plan, source) = planned
    }
    report.plan = plan
    report.cacheAge = fileAge(MetadataCache(root: request.root).path, now: request.now)
    report.lastRun = LastRun(root: request.root).load()
    checkSkipped(plan, source: source, into: &report)
    let fileProblems = checkFiles(plan, root: request.root, into: &report)
    if effects.networkd == nil && effects.kernel == nil {
        report.notes.append("networkd and the kernel are not checked under --root")
    }
    let networkdRunning = checkNetworkdRunning(effects, into: &report)
    let kernel = readKernel(effects, into: &report)
    if networkdRunning == true, let networkd = effects.networkd {
        noteLeftAloneFiles(plan, networkd: networkd, links: request.links, root: request.root, into: &report)
    }
    for interface in plan.interfaces {
        var entry = StatusReport.Interface(plan: interface)
        entry.expectedFile = ManagedDirectory(root: request.root).path + "/" + Artifact.networkFileName(for: interface.mac)
        entry.problems = fileProblems[interface.mac] ?? []
        if networkdRunning == true, let networkd = effects.networkd {
            checkAppliedFile(&entry, networkd: networkd, links: request.links)
        }
        if let kernel { checkKernel(&entry, kernel: kernel) }
        report.interfaces.append(entry)
    }
    if let kernel {
        for rule in missingRules(plan.mainRules, in: kernel.rules) {
            report.problems.append(StatusProblem(.missingMainRule, "kernel lacks the main-table rule \(rule)"))
        }
    }
    checkLastRead(request, source: source, into: &report)
    return report
}

/// The plan of the applied record (else the cache), for the ENIs present now.
private func plannedForStatus(_ request: StatusRequest) -> Result<(Plan, source: String), StatusProblem> {
    guard let applied = AppliedMetadata.load(root: request.root) else {
        return .failure(StatusProblem(.notApplied, AppliedMetadata.absence(root: request.root)))
    }
    var options = request.options
    options.includeAbsentLinks = false
    do {
        let document = try MetadataDocument(bytes: applied.bytes, source: applied.source)
        return .success((try EC2NetCore.plan(parse(document), links: request.links, options: options), applied.source))
    } catch {
        return .failure(StatusProblem(.unplannable, "\(applied.source) cannot be planned: \(error)"))
    }
}

/// ENIs of the metadata that got no files, and why: a problem while one looks mid-attach,
/// else a note; and a problem when none of them is configured.
private func checkSkipped(_ plan: Plan, source: String, into report: inout StatusReport) {
    for skipped in plan.skipped {
        switch skipped.reason {
        case .incomplete: report.problems.append(StatusProblem(.incompleteENI, "\(skipped); its files are kept as they were"))
        default: report.notes.append("\(skipped)")
        }
    }
    let total = plan.interfaces.count + plan.skipped.count
    if plan.interfaces.isEmpty && total > 0 {
        report.problems.append(StatusProblem(.noENIConfigured,
                                             "none of the \(total) ENIs in \(source) is configured: no present link matches them"))
    }
}

/// What is on disk against what the plan renders to: problems of one ENI's files by its
/// MAC, the others (the loopback file, files of no ENI of the plan) in the report.
private func checkFiles(_ plan: Plan, root: String, into report: inout StatusReport) -> [MACAddress: [StatusProblem]] {
    let directory = ManagedDirectory(root: root)
    var owner: [String: MACAddress] = [:]
    for interface in plan.interfaces {
        owner[Artifact.networkFileName(for: interface.mac)] = interface.mac
        owner[Artifact.linkFileName(for: interface.mac)] = interface.mac
    }
    var byENI: [MACAddress: [StatusProblem]] = [:]
    var expected: Set<String> = []
    for artifact in render(plan) {
        expected.insert(artifact.name)
        let path = directory.path + "/" + artifact.name
        let onDisk = try? FileIO.read(path)
        guard onDisk != artifact.bytes else { continue }
        let problem = onDisk == nil ? StatusProblem(.missingFile, "\(path) is missing: run `ec2-netgen apply`")
            : StatusProblem(.editedFile, "\(path) is not what ec2-netgen wrote: run `ec2-netgen apply`")
        if let mac = owner[artifact.name] { byENI[mac, default: []].append(problem) } else { report.problems.append(problem) }
    }
    let kept = plan.keptFileNames
    for name in ((try? directory.managedFiles()) ?? []) where !expected.contains(name) && !kept.contains(name) {
        report.problems.append(StatusProblem(.strayFile, "\(directory.path)/\(name) belongs to no configured ENI: run `ec2-netgen apply`"))
    }
    return byENI
}

/// The kernel's rules and routes, where the effects reach it (not under --root).
private func readKernel(_ effects: SystemEffects, into report: inout StatusReport)
    -> (rules: [RoutingPolicyRule], routes: [Netlink.Route])?
{
    guard let kernel = effects.kernel else { return nil }
    guard let rules = try? kernel.rules(), let routes = try? kernel.routes() else {
        report.problems.append(StatusProblem(.kernelUnreadable, "could not read the kernel's rules and routes over rtnetlink"))
        return nil
    }
    return (rules, routes)
}

/// Whether networkd runs (nil when not checked); not running is a problem.
private func checkNetworkdRunning(_ effects: SystemEffects, into report: inout StatusReport) -> Bool? {
    let running = effects.networkd?.isRunning()
    if running == false {
        report.problems.append(StatusProblem(.networkdNotRunning,
            "systemd-networkd is not running: nothing applies ec2-netgen's files (it needs networkd as the network manager)"))
    }
    return running
}

/// For each ENI left to someone else whose link is here: which `.network` networkd
/// applies to it, when that is not ec2-netgen's `79-` file (`Unmanaged=yes`). A note, not
/// a problem: the file of the tool that owns the ENI (a CNI's) is expected there, but so
/// is the operator told when it is, say, netplan's DHCP from before the package came.
private func noteLeftAloneFiles(_ plan: Plan, networkd: NetworkdService, links: [Link], root: String,
                                into report: inout StatusReport) {
    let ours = ManagedDirectory(root: root).path + "/"
    for skipped in plan.skipped where Management.keptFromCatchAll(skipped.reason) {
        guard let link = enaLink(for: skipped.mac, in: links),
              let applied = networkd.appliedNetworkFile(ifindex: link.index),
              applied != ours + Artifact.unmanagedFileName(for: skipped.mac) else { continue }
        report.notes.append("\(skipped.mac) (\(link.name)) is left alone, and networkd configures it from \(applied)")
    }
}

/// The `.network` file networkd applied to the ENI's link is ec2-netgen's.
private func checkAppliedFile(_ entry: inout StatusReport.Interface, networkd: NetworkdService, links: [Link]) {
    guard let link = links.first(where: { $0.name == entry.plan.linkName }) else { return }
    entry.appliedFile = networkd.appliedNetworkFile(ifindex: link.index)
    if let applied = entry.appliedFile, applied != entry.expectedFile {
        entry.problems.append(StatusProblem(.shadowedFile, "networkd applied \(applied), not \(entry.expectedFile): another file shadows ours"))
    }
}

/// The ENI's rules and routes are in the kernel.
private func checkKernel(_ entry: inout StatusReport.Interface, kernel: (rules: [RoutingPolicyRule], routes: [Netlink.Route])) {
    entry.missingRules = missingRules(entry.plan.rules, in: kernel.rules).map(\.description)
    entry.missingRoutes = missingRoutes(entry.plan.routes, in: kernel.routes).map(\.description)
    if !entry.missingRules.isEmpty {
        entry.problems.append(StatusProblem(.missingRules,
                                            "kernel lacks \(entry.missingRules.count) rule(s): \(entry.missingRules.joined(separator: "; "))"))
    }
    if !entry.missingRoutes.isEmpty {
        entry.problems.append(StatusProblem(.missingRoutes, "kernel lacks route(s): \(entry.missingRoutes.joined(separator: "; "))"))
    }
}

/// The last IMDS read: failed, or too long ago for the refresh timer.
private func checkLastRead(_ request: StatusRequest, source: String, into report: inout StatusReport) {
    let interval = request.options.service.refreshIntervalSeconds ?? 60
    guard let last = report.lastRun else {
        report.notes.append("no IMDS read recorded since boot (files from \(source))")
        return
    }
    if !last.ok {
        report.problems.append(StatusProblem(.imdsReadFailed, "the last IMDS read failed \(request.now - last.epoch) s ago: \(last.detail)"))
    } else if request.now - last.epoch > 3 * interval {
        report.problems.append(StatusProblem(.imdsReadStale,
            "the last IMDS read was \(request.now - last.epoch) s ago, more than three refresh intervals (\(interval) s): is ec2-netgen-refresh.timer running?"))
    }
}

private func fileAge(_ path: String, now: Int) -> Int? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    return now - Int(info.st_mtim.tv_sec)
}
