import ArgumentParser
import EC2NetCore
import EC2NetFS

/// `ec2-netgen plan`: prints the files `apply` would write, or the plan as JSON. Writes
/// nothing.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Print the networkd files (or, with --json, the plan) without writing anything."
    )

    @OptionGroup var inputs: InputOptions

    @Flag(help: "Print the plan as JSON instead of the files.")
    var json = false

    func run() throws {
        guard let metadata = inputs.metadata else {
            throw Failure.usage("plan without --metadata needs the IMDS client, which this build does not have yet")
        }
        let document = try InputOptions.loadDocument(path: metadata)
        let plan = try EC2NetCore.plan(EC2NetCore.parse(document), links: inputs.loadLinks(root: "/"),
                                       options: inputs.loadOptions(root: "/"))
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
