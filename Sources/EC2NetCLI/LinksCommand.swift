import ArgumentParser
import EC2NetCore
import EC2NetOps

/// `ec2-netgen links`: the links present now, in the `--links` file format, so a support
/// case can be replayed anywhere (`plan --links FILE --metadata FILE`).
struct LinksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "links",
        abstract: "Print the links present now as a --links file."
    )

    @Option(help: ArgumentHelp("Read sysfs under DIR instead of the live system.", valueName: "DIR"))
    var root = "/"

    func run() throws {
        print(Link.listJSON(try presentLinks(root: root)).serialized(), terminator: "")
    }
}
