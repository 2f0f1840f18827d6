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

    func run() throws {
        let (options, _) = try inputs.loadOptions(root: "/")
        let links = try inputs.loadLinks(root: "/")
        let source: MetadataSource = try inputs.document().map { .document($0, source: inputs.metadata ?? "") }
            ?? .imds(try imds.client(settings: options.service, links: links), attached: nil)
        let plan = try preview(source: source, links: links, options: options)
        print(json ? plan.json().serialized() : plan.filesText(), terminator: "")
        for skipped in plan.skipped { printError("skipped \(skipped.mac) \(skipped.interfaceID ?? ""): \(skipped.reason)") }
    }
}
