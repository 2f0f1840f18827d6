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
        let document: MetadataDocument
        if let given = try inputs.document() {
            document = given
        } else {
            let client = try imds.client(settings: options.service, links: links)
            document = try client.fetchDocument(sourceLinks: sourceLinks(links))
        }
        // Metadata IMDS served that does not parse is the service's failure (exit 1).
        let parsed = Result { () throws(InputError) in try EC2NetCore.parse(document) }
        if case .failure(let error) = parsed, inputs.metadata == nil {
            throw ApplyError.unusableMetadata(endpoint: imds.imdsEndpoint ?? "IMDS", error: error)
        }
        let instance = try parsed.get()
        let plan = try EC2NetCore.plan(instance, links: links, options: options)
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
