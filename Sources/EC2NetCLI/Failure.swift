/// A failure the CLI reports with its own exit code: 1 for runtime failures, 2 for bad
/// usage or input. Layer errors are mapped in `Main`; this carries the rest.
struct Failure: Error, CustomStringConvertible {
    /// The message, naming the culprit.
    var message: String
    /// The exit status.
    var exitCode: Int32

    var description: String { message }

    /// Bad usage or a bad input file (exit 2).
    static func usage(_ message: String) -> Failure { Failure(message: message, exitCode: 2) }
    /// A runtime failure (exit 1).
    static func runtime(_ message: String) -> Failure { Failure(message: message, exitCode: 1) }
}
