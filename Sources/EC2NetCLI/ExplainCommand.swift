import ArgumentParser
import EC2NetCore
import EC2NetFS
import EC2NetOps

/// `ec2-netgen explain ADDRESS`: runs the explain operation and prints it.
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Show which ENI owns an address, its table and the rules that route replies from it."
    )

    @Argument(help: ArgumentHelp("An IPv4 or IPv6 address of this instance, or an ENI (link name, MAC or ENI id) to explain all its addresses.",
                                 valueName: "ADDRESS|ENI"))
    var address: String

    @Option(help: ArgumentHelp("Read everything under DIR; the kernel is only checked for /.", valueName: "DIR"))
    var root = "/"

    @Option(help: ArgumentHelp("Read links from a JSON FILE instead of sysfs.", valueName: "FILE"))
    var links: String?

    func validate() throws {
        if IPAddress(address) == nil && MACAddress(address) == nil && !Link.isValidName(address) {
            throw ValidationError("\(address) is neither an IPv4 or IPv6 address nor an ENI's link name, MAC or id")
        }
    }

    func run() throws {
        let (options, _) = ConfigurationFiles.loadLenient(root: root)
        let links = try Inputs.loadLinks(file: links, root: root)
        let effects = SystemEffects.forRoot(root)
        let result = try IPAddress(address).map { try explain($0, root: root, links: links, options: options, effects: effects) }
            ?? explain(eni: address, root: root, links: links, options: options, effects: effects)
        print(result.lines.joined(separator: "\n"))
        if !result.found { throw ExitCode(1) }
    }
}
