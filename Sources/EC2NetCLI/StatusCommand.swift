import ArgumentParser
import EC2NetCore
import EC2NetFS
import EC2NetOps
import Glibc

/// `ec2-netgen status`: runs the status operation (EC2NetOps) and prints its report.
/// Exit 0 only when everything is in sync, so it serves as a health check.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show per ENI what ec2-netgen configured and whether networkd and the kernel match it."
    )

    @Flag(help: "Print the status as JSON.")
    var json = false

    @Option(help: ArgumentHelp("Read everything under DIR; the kernel and networkd are only checked for /.", valueName: "DIR"))
    var root = "/"

    @Option(help: ArgumentHelp("Read links from a JSON FILE instead of sysfs.", valueName: "FILE"))
    var links: String?

    @Argument(help: ArgumentHelp("Only this ENI: its link name, MAC or ENI id.", valueName: "ENI"))
    var eni: String?

    func run() throws {
        // Read as the units read it: status must report on a system whose configuration
        // has a bad line, not refuse to look.
        let (options, problems) = ConfigurationFiles.loadLenient(root: root)
        var request = StatusRequest(root: root, links: try Inputs.loadLinks(file: links, root: root), options: options)
        request.configurationProblems = problems
        let whole = status(request, effects: .forRoot(root))
        let report = eni.map(whole.only) ?? whole
        print(json ? report.json().serialized() : report.text(colour: Terminal.colour), terminator: "")
        if !report.inSync { throw ExitCode(1) }
    }
}
