import ArgumentParser
import EC2NetCore
import EC2NetFS

/// `ec2-netgen apply`: the one idempotent operation every entry point funnels into —
/// read inputs, plan, render, sync the managed files, reload networkd only on change.
struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Write the networkd files for this instance and reload networkd if any changed."
    )

    @OptionGroup var inputs: InputOptions

    @Flag(help: "Use the cached metadata document instead of IMDS; never touches the network.")
    var cached = false

    @Flag(help: "With --cached: render every cached ENI, whether or not its link exists yet.")
    var boot = false

    @Option(help: ArgumentHelp("Read and write everything under DIR (for tests and images).", valueName: "DIR"))
    var root = "/"

    @Flag(help: "Do not ask networkd to reload after a change.")
    var noReload = false

    func validate() throws {
        if cached && inputs.metadata != nil { throw ValidationError("--cached and --metadata exclude each other") }
        if boot && !cached { throw ValidationError("--boot needs --cached") }
    }

    func run() throws {
        let lock = try RunLock(root: root)
        defer { withExtendedLifetime(lock) {} }
        let cache = MetadataCache(root: root)
        let document: MetadataDocument
        if let metadata = inputs.metadata {
            document = try InputOptions.loadDocument(path: metadata)
        } else if cached {
            guard let bytes = try cache.load() else {
                throw Failure.runtime("--cached: no metadata cache at \(cache.path) (no successful live apply yet)")
            }
            document = try MetadataDocument(bytes: bytes, source: cache.path)
        } else {
            throw Failure.usage("apply without --metadata or --cached needs the IMDS client, which this build does not have yet")
        }
        var options = try inputs.loadOptions(root: root)
        options.includeAbsentLinks = boot
        let plan = try EC2NetCore.plan(EC2NetCore.parse(document), links: inputs.loadLinks(root: root), options: options)
        var preserve: Set<String> = []
        for skipped in plan.skipped {
            if case .incomplete = skipped.reason {
                preserve.insert(Artifact.networkName(for: skipped.mac))
                preserve.insert(Artifact.linkName(for: skipped.mac))
            }
        }
        let directory = ManagedDirectory(root: root)
        let report = try directory.sync(render(plan), preserve: preserve)
        printReport(report, plan: plan, directory: directory.path)
        if report.changed && !noReload {
            printError("networkd reload is not implemented in this build; run `networkctl reload`")
        }
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
