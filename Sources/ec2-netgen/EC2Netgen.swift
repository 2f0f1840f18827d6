import ArgumentParser
import EC2NetCore
import EC2NetFS
import EC2NetIO
import EC2NetOps
import Glibc

/// The `ec2-netgen` command: reads instance metadata and links, writes systemd-networkd
/// files so every ENI's addresses route symmetrically.
struct EC2Netgen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ec2-netgen",
        abstract: "Policy routing for multi-NIC EC2 instances, as systemd-networkd files.",
        discussion: """
            Exit status: 0 ok; 1 runtime failure (IMDS, D-Bus, I/O); 2 bad usage or bad input.
            """,
        version: "0.1.0",
        subcommands: [PlanCommand.self, ApplyCommand.self, FetchCommand.self, StatusCommand.self, LinksCommand.self, ExplainCommand.self]
    )
}

/// Entry point: runs the command and maps every error to the exit codes of the CLI
/// contract (docs/design.md) in one place (argument-parser would use 64 for usage errors).
@main
enum Main {
    static func main() {
        // `--version` alone is answered before the argument parser, whose start-up (type
        // metadata lookups and reflection over every option of every subcommand) is about
        // 5.4 of the 9.1 million instructions `--version` cost through it (callgrind).
        if CommandLine.arguments.count == 2 && CommandLine.arguments[1] == "--version" {
            print(EC2Netgen.configuration.version)
            exit(0)
        }
        do {
            var command = try EC2Netgen.parseAsRoot()
            try command.run()
        } catch let error where exitStatus(of: error) != nil {
            printError("\(error)")
            exit(exitStatus(of: error) ?? 1)
        } catch {
            let code = EC2Netgen.exitCode(for: error)
            let message = EC2Netgen.fullMessage(for: error)
            if code == .success {
                print(message)
                exit(0)
            }
            // `status` reports through its own output and exits 1 with no message.
            if !message.isEmpty { printError(message) }
            // Usage errors are 2 per the contract; anything else argument-parser raises
            // during run() is a runtime failure.
            exit(code == .validationFailure ? 2 : 1)
        }
    }
}

/// Writes one message to stderr, prefixed with the program name.
func printError(_ message: String) {
    var line = "ec2-netgen: " + message
    if !line.hasSuffix("\n") { line += "\n" }
    let bytes = Array(line.utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

/// The contract's exit status of the layers' own errors: 2 for bad usage or bad input (a
/// file, a value, a configuration line), 1 for runtime failures; nil for
/// argument-parser's, which `Main` maps itself.
func exitStatus(of error: any Error) -> Int32? {
    switch error {
    case let failure as Failure: return failure.exitCode
    case is InputError, is ConfigurationProblem: return 2
    case is ApplyError, is IOError, is FSError: return 1
    default: return nil
    }
}
