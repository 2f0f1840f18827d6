import ArgumentParser
import EC2NetCore
import EC2NetFS
import EC2NetIO
import EC2NetOps
import Glibc

/// The whole command line: which parser reads it, running the command, and the exit
/// status of every error, in one place (argument-parser would use 64 for usage errors).
public enum CommandLineInterface {
    /// Runs `ec2-netgen` with `arguments` (without the program name) and exits.
    public static func main(_ arguments: [String]) -> Never {
        // `--version` alone and the units' `apply` runs are answered before the argument
        // parser, whose start-up (type metadata lookups and reflection over every option of
        // every subcommand) costs more than a no-change apply's own work.
        if arguments == ["--version"] {
            print(EC2Netgen.configuration.version)
            exit(0)
        }
        if let apply = ApplyArguments(unitArguments: arguments) {
            do {
                try apply.run()
                exit(0)
            } catch {
                printError("\(error)")
                exit(exitStatus(of: error) ?? 1)
            }
        }
        do {
            var command = try EC2Netgen.parseAsRoot(arguments)
            try command.run()
            exit(0)
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
/// argument-parser's, which `main` maps itself.
func exitStatus(of error: any Error) -> Int32? {
    switch error {
    case let failure as Failure: return failure.exitCode
    case is InputError, is ConfigurationProblem: return 2
    case is ApplyError, is IOError, is FSError: return 1
    default: return nil
    }
}
