import ArgumentParser
import EC2NetOps

/// `ec2-netgen apply`: declares its flags (help, error messages) and runs their values,
/// an `ApplyArguments`.
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

    @Flag(help: "With --boot: when cloud-init's instance data of this boot describes another instance than the cache (a new instance's first boot), plan from it.")
    var fromCloudInit = false

    @Option(help: ArgumentHelp("Read and write everything under DIR (for tests and images); touches nothing outside it: no reload, udev or journal.",
                               valueName: "DIR"))
    var root = "/"

    @Option(help: ArgumentHelp("Wait until IMDS fully describes the ENI of link IFACE (after a hot attach).", valueName: "IFACE"))
    var waitFor: String?

    @Option(help: ArgumentHelp("Give up --wait-for after this many seconds (more than 0, at most 3600).", valueName: "SECONDS"))
    var waitTimeout: Double = defaultWaitTimeoutSeconds

    @Flag(help: "Do not ask networkd to reload after a change.")
    var noReload = false

    @Flag(help: "Also print what changed as a unified diff, before the summary.")
    var diff = false

    @Flag(help: "Run as the units do: a bad configuration line is logged and ignored instead of refusing (implied by --boot and --wait-for).")
    var unattended = false

    /// The flags' values.
    var values: ApplyArguments {
        ApplyArguments(inputs: inputs.values, imds: imds.values, cached: cached, boot: boot, fromCloudInit: fromCloudInit, root: root, waitFor: waitFor,
                       waitTimeoutSeconds: waitTimeout, noReload: noReload, diff: diff, unattended: unattended)
    }

    func validate() throws {
        if let problem = values.problem { throw ValidationError(problem) }
    }

    func run() throws { try values.run() }
}
