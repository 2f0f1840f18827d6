import ArgumentParser
import EC2NetCore
import EC2NetFS
import EC2NetIO
import EC2NetOps

/// `ec2-netgen fetch`: reads IMDS into a metadata document (what `--metadata` and the
/// cache hold) and prints or saves it. For support cases and tests.
struct FetchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Read the instance metadata into a metadata document."
    )

    @OptionGroup var imds: IMDSOptions

    @Option(help: ArgumentHelp("Write the document to FILE (atomically) instead of stdout.", valueName: "FILE"))
    var output: String?

    func run() throws {
        let start = ContinuousClock.now
        let client = try imds.values.client(imdsNetworking: SystemdIMDSState.read(root: "/"))
        let document = try client.fetchDocument(previous: nil, only: nil, sourceLinks: [:])
        let text = document.serialized()
        if let output {
            try FileIO.writeAtomically(output, contents: Array(text.utf8), mode: 0o644)
        } else {
            print(text, terminator: "")
        }
        printError(client.costSummary(milliseconds: millisecondsSince(start)))
    }
}
