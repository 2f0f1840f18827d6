import ArgumentParser
import EC2NetCore
import EC2NetFS
import EC2NetIO
import EC2NetOps

/// `ec2-netgen apply`: parses its flags into an ApplyRequest and runs the apply operation
/// (EC2NetOps), which makes every decision; then prints what it did.
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

    @Option(help: ArgumentHelp("Read and write everything under DIR (for tests and images); touches nothing outside it: no reload, udev or journal.",
                               valueName: "DIR"))
    var root = "/"

    @Option(help: ArgumentHelp("Wait until IMDS fully describes the ENI of link IFACE (after a hot attach).", valueName: "IFACE"))
    var waitFor: String?

    @Option(help: ArgumentHelp("Give up --wait-for after this many seconds (more than 0, at most 3600).", valueName: "SECONDS"))
    var waitTimeout: Double = 60

    @Flag(help: "Do not ask networkd to reload after a change.")
    var noReload = false

    @Flag(help: "Also print what changed as a unified diff, before the summary.")
    var diff = false

    @Flag(help: "Run as the units do: a bad configuration line is logged and ignored instead of refusing (implied by --boot and --wait-for).")
    var unattended = false

    func validate() throws {
        if cached && inputs.metadata != nil { throw ValidationError("--cached and --metadata exclude each other") }
        if boot && !cached { throw ValidationError("--boot needs --cached") }
        if waitFor != nil && (cached || inputs.metadata != nil) { throw ValidationError("--wait-for reads IMDS; it excludes --cached and --metadata") }
        if let waitFor, !Link.isValidName(waitFor) { throw ValidationError("--wait-for: \(waitFor) is not an interface name") }
        guard waitTimeout > 0, waitTimeout <= 3600 else { throw ValidationError("--wait-timeout must be more than 0 and at most 3600 seconds") }
    }

    func run() throws {
        let (options, problems) = try inputs.loadOptions(root: root, lenient: unattended || boot || waitFor != nil)
        for problem in problems { printError("warning: ignoring \(problem)") }
        let links = try inputs.loadLinks(root: root)
        let (source, sourceWarning) = try source(options: options, links: links)
        if let sourceWarning { printError("warning: \(sourceWarning)") }
        var request = ApplyRequest(source: source, root: root, links: links, options: options)
        request.includeAbsentLinks = boot
        request.retriggerLinks = !boot
        request.reportDiff = diff
        var effects = root == "/" ? SystemEffects.live : .none
        if noReload { effects.networkd = nil }
        let report = try apply(request, effects: effects)
        print(report.lines().joined(separator: "\n"))
        for warning in report.warnings { printError("warning: \(warning)") }
    }

    /// The metadata source the flags name. `--wait-for` polls IMDS first, outside the run
    /// lock (it only reads), so sixteen attaches at once do not queue a minute each.
    private func source(options: PlanOptions, links: [Link]) throws -> (MetadataSource, String?) {
        if let document = try inputs.document() { return (.document(document, source: inputs.metadata ?? ""), nil) }
        if cached { return (.cache, nil) }
        let client = try imds.client(settings: options.service, root: root, links: links)
        guard let waitFor else { return (.imds(client, attached: nil), nil) }
        guard let link = links.first(where: { $0.name == waitFor }) else { throw Failure.runtime("--wait-for: no link named \(waitFor)") }
        return try waitSource(client, link: link, timeoutSeconds: waitTimeout, root: root)
    }
}
