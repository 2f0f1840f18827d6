/// A failed file operation, naming the path and the errno text. Runtime failures: the CLI
/// maps them to exit code 1.
public struct FSError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What was being done (`open`, `rename`, …).
    public var operation: String
    /// The path involved.
    public var path: String
    /// `errno` at the failure.
    public var code: Int32

    /// Creates an error.
    public init(operation: String, path: String, code: Int32) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    public var description: String {
        "\(operation) \(path): \(String(cString: strerror(code)))"
    }
}

import Glibc
import Glibc
