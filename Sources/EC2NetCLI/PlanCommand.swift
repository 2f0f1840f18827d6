import ArgumentParser
import EC2NetCore
import EC2NetFS
import EC2NetIO
import EC2NetOps

/// `ec2-netgen plan`: prints the files `apply` would write, or the plan as JSON. Writes
/// nothing.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Print the networkd files (or, with --json, the plan) without writing anything."
    )

    @OptionGroup var inputs: InputOptions
    @OptionGroup var imds: IMDSOptions

    @Flag(help: "Print the plan as JSON instead of the files.")
    var json = false

    @Flag(help: "Print what apply would change on disk as a unified diff; exit 1 when there is a difference.")
    var diff = false

    @Option(help: ArgumentHelp("With --diff: compare with the files under DIR.", valueName: "DIR"))
    var root = "/"

    @Argument(help: ArgumentHelp("Only this ENI's files: its link name, MAC or ENI id.", valueName: "ENI"))
    var eni: String?

    func validate() throws {
        if diff && json { throw ValidationError("--diff and --json exclude each other") }
    }

    func run() throws {
        let inputs = inputs.values
        let (options, _) = try inputs.loadOptions(root: "/")
        let links = try inputs.loadLinks(root: "/")
        let source: MetadataSource = try inputs.document().map { .document($0.document, source: inputs.metadata ?? "") }
            ?? .imds(try imds.values.client(settings: options.service, imdsNetworking: options.imdsNetworking, links: links), attached: nil)
        let whole = try preview(source: source, links: links, options: options)
        guard let plan = eni.map(whole.only) ?? whole else { throw Failure.usage("no configured ENI is named \(eni ?? "")") }
        if diff {
            let changes = pendingChanges(plan, root: root, onlyRendered: eni != nil)
            print(changes, terminator: "")
            if !changes.isEmpty { throw ExitCode(1) }
            return
        }
        if json {
            print(plan.json().serialized(), terminator: "")  // the skipped ENIs are in the JSON
            return
        }
        print(plan.filesText(), terminator: "")
        for skipped in plan.skipped { printError("skipped \(skipped)") }
    }
}
