import EC2NetCore
import EC2NetFS
import EC2NetIO
import EC2NetOps

/// Everything `ec2-netgen apply` was asked, as plain values, and the run itself. Filled
/// in by `ApplyCommand` (swift-argument-parser: help, every error message) or, on the
/// paths the units run, by `init?(unitArguments:)` without the argument parser.
struct ApplyArguments: Equatable {
    var inputs = Inputs()
    var imds = IMDSAccess()
    /// `--cached`.
    var cached = false
    /// `--boot`.
    var boot = false
    /// `--from-cloud-init`.
    var fromCloudInit = false
    /// `--root DIR`.
    var root = "/"
    /// `--wait-for IFACE`.
    var waitFor: String?
    /// `--wait-timeout SECONDS`.
    var waitTimeoutSeconds: Double = defaultWaitTimeoutSeconds
    /// `--no-reload`.
    var noReload = false
    /// `--diff`.
    var diff = false
    /// `--unattended`.
    var unattended = false

    /// Why this combination is refused (a usage error), or nil.
    var problem: String? {
        if let problem = imds.problem { return problem }
        if cached && inputs.metadata != nil { return "--cached and --metadata exclude each other" }
        if boot && !cached { return "--boot needs --cached" }
        if fromCloudInit && !boot { return "--from-cloud-init needs --boot" }
        if waitFor != nil && (cached || inputs.metadata != nil) { return "--wait-for reads IMDS; it excludes --cached and --metadata" }
        if let waitFor, !Link.isValidName(waitFor) { return "--wait-for: \(waitFor) is not an interface name" }
        guard waitTimeoutSeconds > 0, waitTimeoutSeconds <= 3600 else { return "--wait-timeout must be more than 0 and at most 3600 seconds" }
        return nil
    }

    /// Runs the apply operation (EC2NetOps), which makes every decision; then prints what
    /// it did.
    func run() throws {
        let (options, problems) = try inputs.loadOptions(root: root, lenient: unattended || boot || waitFor != nil)
        for problem in problems { printError("warning: ignoring \(problem)") }
        let links = try inputs.loadLinks(root: root)
        let (source, sourceWarning) = try source(options: options, links: links)
        if let sourceWarning { printError("warning: \(sourceWarning)") }
        var request = ApplyRequest(source: source, root: root, links: links, options: options)
        request.includeAbsentLinks = boot
        request.fromCloudInit = fromCloudInit
        // After cloud-init's local stage coldplug is over: a new .link applies only by a
        // re-fired add event.
        request.retriggerLinks = !boot || fromCloudInit
        // Before networkd runs no router advertisement is accepted, so none is waited for.
        if boot { request.routerWait = .zero }
        request.reportDiff = diff
        request.whileWaitingForLock = { path in printError("waiting for another ec2-netgen run to finish (it holds \(path))") }
        var effects = SystemEffects.forRoot(root)
        if noReload { effects.networkd = nil }
        let report: ApplyReport
        do {
            report = try apply(request, effects: effects)
        } catch where unattended && Self.isIMDSOutage(error, source: source) {
            // The timer's run: an IMDS outage leaves the files as they are, which is all a
            // refresh could do. It is reported (this line, the journal's imds-failed entry,
            // `status`) but does not fail the unit: a failed unit every minute of an outage
            // would mark the host degraded while its routing stands.
            printError("warning: \(error); the files stay as they are, the next refresh tries again")
            return
        }
        print(report.lines().joined(separator: "\n"))
        for warning in report.warnings { printError("warning: \(warning)") }
    }

    /// True for a failure of the IMDS read itself (unreachable, failing, unusable answer),
    /// as opposed to one of this host (files, networkd).
    static func isIMDSOutage(_ error: Error, source: MetadataSource) -> Bool {
        guard case .imds = source else { return false }
        if error is IOError { return true }
        if case ApplyError.unusableMetadata = error { return true }
        return false
    }

    /// The metadata source the flags name. `--wait-for` polls IMDS first, outside the run
    /// lock (it only reads), so sixteen attaches at once do not queue a minute each.
    private func source(options: PlanOptions, links: [Link]) throws -> (MetadataSource, String?) {
        if let given = try inputs.document() {
            return (.document(given.document, source: inputs.metadata ?? "", bytes: given.bytes), nil)
        }
        if cached { return (.cache, nil) }
        let client = try imds.client(settings: options.service, imdsNetworking: options.imdsNetworking, root: root, links: links)
        guard let waitFor else { return (.imds(client, attached: nil), nil) }
        guard let link = links.first(where: { $0.name == waitFor }) else { throw Failure.runtime("--wait-for: no link named \(waitFor)") }
        return try waitSource(client, link: link, timeoutSeconds: waitTimeoutSeconds, root: root)
    }
}
