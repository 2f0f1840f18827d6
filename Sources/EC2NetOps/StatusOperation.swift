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
    let root = request.root
    var report = StatusReport(problems: [])
    report.options = request.options
    report.notes += request.configurationProblems.map { "configuration: ignoring \($0)" }
    guard let applied = AppliedMetadata.load(root: root) else {
        report.problems.append(AppliedMetadata.absence(root: root))
        return report
    }
    let (source, bytes) = (applied.source, applied.bytes)
    report.cacheAge = fileAge(MetadataCache(root: root).path, now: request.now)
    report.lastRun = LastRun(root: root).load()

    var options = request.options
    options.includeAbsentLinks = false
    let plan: Plan
    do {
        plan = try EC2NetCore.plan(parse(MetadataDocument(bytes: bytes, source: source)), links: request.links, options: options)
    } catch {
        report.problems.append("\(source) cannot be planned: \(error)")
        return report
    }
    report.plan = plan

    // ENIs of the metadata that got no files, and why.
    for skipped in plan.skipped {
        switch skipped.reason {
        case .incomplete: report.problems.append("\(skipped); its files are kept as they were")
        default: report.notes.append("\(skipped)")
        }
    }
    let totalENIs = plan.interfaces.count + plan.skipped.count
    if plan.interfaces.isEmpty && totalENIs > 0 {
        report.problems.append("none of the \(totalENIs) ENIs in \(source) is configured: no present link matches them")
    }

    // Files: what is on disk against what the metadata renders to.
    let directory = ManagedDirectory(root: root)
    var owner: [String: MACAddress] = [:]
    for interface in plan.interfaces {
        owner[Artifact.networkFileName(for: interface.mac)] = interface.mac
        owner[Artifact.linkFileName(for: interface.mac)] = interface.mac
    }
    var fileProblems: [MACAddress: [String]] = [:]
    var expected: Set<String> = []
    for artifact in render(plan) {
        expected.insert(artifact.name)
        let path = directory.path + "/" + artifact.name
        let onDisk = try? FileIO.read(path)
        guard onDisk != artifact.bytes else { continue }
        let problem = "\(path) is \(onDisk == nil ? "missing" : "not what ec2-netgen wrote"): run `ec2-netgen apply`"
        if let mac = owner[artifact.name] { fileProblems[mac, default: []].append(problem) } else { report.problems.append(problem) }
    }
    let kept = plan.keptFileNames
    for name in ((try? directory.managedFiles()) ?? []) where !expected.contains(name) && !kept.contains(name) {
        report.problems.append("\(directory.path)/\(name) belongs to no configured ENI: run `ec2-netgen apply`")
    }

    // networkd and the kernel, where the effects reach them (not under --root).
    if effects.networkd == nil && effects.kernel == nil {
        report.notes.append("networkd and the kernel are not checked under --root")
    }
    let networkdRunning = effects.networkd?.isRunning()
    if networkdRunning == false {
        report.problems.append("systemd-networkd is not running: nothing applies ec2-netgen's files (it needs networkd as the network manager)")
    }
    let kernelRules: [RoutingPolicyRule]?
    let kernelRoutes: [Netlink.Route]?
    if let kernel = effects.kernel {
        kernelRules = try? kernel.rules()
        kernelRoutes = try? kernel.routes()
        if kernelRules == nil || kernelRoutes == nil { report.problems.append("could not read the kernel's rules and routes over rtnetlink") }
    } else {
        (kernelRules, kernelRoutes) = (nil, nil)
    }
    for interface in plan.interfaces {
        var entry = StatusReport.Interface(plan: interface)
        entry.expectedFile = directory.path + "/" + Artifact.networkFileName(for: interface.mac)
        entry.problems = fileProblems[interface.mac] ?? []
        if networkdRunning == true, let networkd = effects.networkd,
           let link = request.links.first(where: { $0.name == interface.linkName }) {
            entry.appliedFile = networkd.appliedNetworkFile(ifindex: link.index)
            if let applied = entry.appliedFile, applied != entry.expectedFile {
                entry.problems.append("networkd applied \(applied), not \(entry.expectedFile): another file shadows ours")
            }
        }
        if let kernelRules {
            entry.missingRules = interface.rules.filter { !kernelRules.contains($0) }.map(\.description)
        }
        if let kernelRoutes {
            for route in interface.routes where !kernelRoutes.contains(where: { kernel in
                kernel.family == route.family && kernel.table == route.table && kernel.destination == route.destination
            }) {
                entry.missingRoutes.append(route.description)
            }
        }
        if !entry.missingRules.isEmpty { entry.problems.append("kernel lacks \(entry.missingRules.count) rule(s): \(entry.missingRules.joined(separator: "; "))") }
        if !entry.missingRoutes.isEmpty { entry.problems.append("kernel lacks route(s): \(entry.missingRoutes.joined(separator: "; "))") }
        report.interfaces.append(entry)
    }
    if let kernelRules {
        for rule in plan.mainRules where !kernelRules.contains(rule) {
            report.problems.append("kernel lacks the main-table rule \(rule)")
        }
    }

    // The last IMDS read: failed, or too long ago for the refresh timer.
    let interval = request.options.service.refreshIntervalSeconds ?? 60
    if let last = report.lastRun {
        if !last.ok {
            report.problems.append("the last IMDS read failed \(request.now - last.epoch) s ago: \(last.detail)")
        } else if request.now - last.epoch > 3 * interval {
            report.problems.append("the last IMDS read was \(request.now - last.epoch) s ago, more than three refresh intervals (\(interval) s): is ec2-netgen-refresh.timer running?")
        }
    } else {
        report.notes.append("no IMDS read recorded since boot (files from \(source))")
    }
    return report
}

private func fileAge(_ path: String, now: Int) -> Int? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    return now - Int(info.st_mtim.tv_sec)
}
