import ArgumentParser
import EC2NetCore
import EC2NetFS
import EC2NetIO

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
        let options = try inputs.loadOptions(root: "/")
        let instance: Instance
        if let metadata = inputs.metadata {
            instance = try EC2NetCore.parse(InputOptions.loadDocument(path: metadata))
        } else {
            instance = try IMDSOptions.fetch(with: imds.client(settings: options.service)).1
        }
        let plan = try EC2NetCore.plan(instance, links: inputs.loadLinks(root: "/"), options: options)
        if json {
            print(plan.json().serialized(), terminator: "")
            return
        }
        for (index, artifact) in render(plan).enumerated() {
            if index > 0 { print() }
            print("==> \(artifact.name) <==")
            print(artifact.contents, terminator: "")
        }
        for skipped in plan.skipped {
            printError("skipped \(skipped.mac) \(skipped.interfaceID ?? ""): \(skipped.reason)")
        }
    }
}
