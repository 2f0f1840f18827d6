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

    @Argument(help: ArgumentHelp("An IPv4 or IPv6 address of this instance.", valueName: "ADDRESS"))
    var address: String

    @Option(help: ArgumentHelp("Read everything under DIR; the kernel is only checked for /.", valueName: "DIR"))
    var root = "/"

    @Option(help: ArgumentHelp("Read links from a JSON FILE instead of sysfs.", valueName: "FILE"))
    var links: String?

    func validate() throws {
        if IPAddress(address) == nil { throw ValidationError("\(address) is not an IPv4 or IPv6 address") }
    }

    func run() throws {
        let parsed = try IPAddress(address).orThrow(ValidationError("\(address) is not an IPv4 or IPv6 address"))
        let (options, _) = ConfigurationFiles.loadLenient(root: root)
        let result = try explain(parsed, root: root, links: InputOptions.loadLinks(file: links, root: root), options: options,
                                 effects: root == "/" ? .live : .none)
        print(result.lines.joined(separator: "\n"))
        if !result.found { throw ExitCode(1) }
    }
}

extension Optional {
    /// The value, or `error` thrown.
    func orThrow(_ error: some Error) throws -> Wrapped {
        guard let value = self else { throw error }
        return value
    }
}
