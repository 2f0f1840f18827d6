import ArgumentParser
import EC2NetCore
import EC2NetFS
import EC2NetIO
import Glibc

/// `ec2-netgen apply`: the one idempotent operation every entry point funnels into —
/// read inputs, plan, render, sync the managed files, reload networkd only on change.
struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Write the networkd files for this instance and reload networkd if any changed."
    )

    @OptionGroup var inputs: InputOptions
    @OptionGroup var imds: IMDSOptions

    @Flag(help: "Use the cached metadata document instead of IMDS; never touches the network.")
    var cached = false

    @Flag(help: "With --cached: render every cached ENI, whether or not its link exists yet.")
    var boot = false

    @Option(help: ArgumentHelp("Read and write everything under DIR (for tests and images).", valueName: "DIR"))
    var root = "/"

    @Option(help: ArgumentHelp("Wait until IMDS fully describes the ENI of link IFACE (after a hot attach).", valueName: "IFACE"))
    var waitFor: String?

    @Option(help: ArgumentHelp("Give up --wait-for after this many seconds.", valueName: "SECONDS"))
    var waitTimeout: Double = 60

    @Flag(help: "Do not ask networkd to reload after a change.")
    var noReload = false

    func validate() throws {
        if cached && inputs.metadata != nil { throw ValidationError("--cached and --metadata exclude each other") }
        if boot && !cached { throw ValidationError("--boot needs --cached") }
        if waitFor != nil && (cached || inputs.metadata != nil) { throw ValidationError("--wait-for reads IMDS; it excludes --cached and --metadata") }
        if let waitFor, !Link.isValidName(waitFor) { throw ValidationError("--wait-for: \(waitFor) is not an interface name") }
        guard waitTimeout > 0, waitTimeout <= 3600 else { throw ValidationError("--wait-timeout must be between 0 and 3600 seconds") }
    }

    func run() throws {
        let live = inputs.metadata == nil && !cached
        var options = try inputs.loadOptions(root: root)
        options.includeAbsentLinks = boot
        let cache = MetadataCache(root: root)
        // Read before the lock (it only reads): it names the primary, whose link carries
        // requests about no one ENI, and lets a refresh skip what cannot change. A broken
        // cache costs only a full read.
        let previous = live ? (try? cache.load()).flatMap { $0 }.flatMap { try? MetadataDocument(bytes: $0, source: cache.path) } : nil
        let client = live ? try imds.client(settings: options.service, root: root, previous: previous,
                                            links: inputs.loadLinks(root: root)) : nil
        let start = ContinuousClock.now
        var attached: MACAddress?
        if let waitFor, let client {
            // Polling happens before taking the lock: it only reads, and an attach storm of
            // sixteen waits must not serialise behind each other for a minute each.
            let links = try inputs.loadLinks(root: root)
            guard let link = links.first(where: { $0.name == waitFor }) else {
                throw Failure.runtime("--wait-for: no link named \(waitFor)")
            }
            try client.waitUntilComplete(link.mac, link: waitFor, timeoutSeconds: waitTimeout)
            attached = link.mac
        }

        let lock = try RunLock(root: root)
        defer { withExtendedLifetime(lock) {} }
        let document: MetadataDocument
        let instance: Instance
        if let metadata = inputs.metadata {
            document = try InputOptions.loadDocument(path: metadata)
            instance = try EC2NetCore.parse(document)
        } else if cached {
            guard let bytes = try cache.load() else {
                throw Failure.runtime("--cached: no metadata cache at \(cache.path) (no successful live apply yet)")
            }
            document = try MetadataDocument(bytes: bytes, source: cache.path)
            instance = try EC2NetCore.parse(document)
        } else if let client {
            do {
                // A refresh reads only what can change for ENIs the cache knows; an
                // attach reads only its own ENI.
                (document, instance) = try IMDSOptions.fetch(with: client, previous: previous, only: attached,
                                                             links: inputs.loadLinks(root: root))
            } catch {
                Journal.send(.imdsFailed, priority: LOG_ERR, message: "IMDS read failed, nothing changed: \(error)")
                LastRun(root: root).record(ok: false, detail: "\(error)")
                throw error
            }
        } else {
            throw Failure.runtime("no metadata source")
        }
        let plan = try EC2NetCore.plan(instance, links: inputs.loadLinks(root: root), options: options)
        var preserve: Set<String> = []
        for skipped in plan.skipped {
            if case .incomplete = skipped.reason {
                preserve.insert(Artifact.networkName(for: skipped.mac))
                preserve.insert(Artifact.linkName(for: skipped.mac))
            }
        }
        let directory = ManagedDirectory(root: root)
        let report = try directory.sync(render(plan), preserve: preserve)
        // The cache is written only after the files: it must never describe a state the
        // files do not have yet, and a failed read never reaches this line.
        if live { try cache.save(document) }
        printReport(report, plan: plan, directory: directory.path)
        if let client {
            let summary = IMDSOptions.summary(client, milliseconds: millisecondsSince(start))
            print(summary)
            LastRun(root: root).record(ok: true, detail: summary)
        }
        journal(report, plan: plan)
        if report.changed && !noReload { try reloadNetworkd() }
        if root == "/" { retriggerLinks(report, plan: plan) }
    }

    /// One line per file touched, then the skipped ENIs, then a summary.
    private func printReport(_ report: SyncReport, plan: Plan, directory: String) {
        for name in report.created { print("created   \(directory)/\(name)") }
        for name in report.updated { print("updated   \(directory)/\(name)") }
        for name in report.removed { print("removed   \(directory)/\(name)") }
        for name in report.preserved { print("kept      \(directory)/\(name) (metadata incomplete)") }
        for name in report.foreign { print("ignored   \(directory)/\(name) (named like ours, but not written by ec2-netgen)") }
        for skipped in plan.skipped {
            print("skipped   \(skipped.mac)\(skipped.interfaceID.map { " " + $0 } ?? ""): \(skipped.reason)")
        }
        let total = report.created.count + report.updated.count + report.removed.count
        if total == 0 {
            print("no change: \(report.unchanged.count) files up to date")
        } else {
            print("\(total) file(s) changed, \(report.unchanged.count) unchanged")
        }
    }
}
