import EC2NetCore
import Foundation

/// Paths and helpers shared by the tests.
public enum TestSupport {
    /// The repository root, found from this file's location.
    public static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// `Tests/Golden`.
    public static let goldenDirectory = repository.appendingPathComponent("Tests/Golden")

    /// The built `ec2-netgen` executable next to the test binary (`swift build` puts both
    /// in the same directory). Tests that need it fail loudly when it is missing.
    public static var executable: URL {
        if let path = ProcessInfo.processInfo.environment["EC2NETGEN_BIN"] { return URL(fileURLWithPath: path) }
        let me = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
        return me.deletingLastPathComponent().appendingPathComponent("ec2-netgen")
    }

    /// A fresh temporary directory, removed by the caller via `defer`.
    public static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ec2-netgen-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Result of running the CLI.
    public struct Run {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs `ec2-netgen` with arguments and waits.
    public static func run(_ arguments: [String], environment: [String: String]? = nil) throws -> Run {
        let binary = executable
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw TestFailure("ec2-netgen not built at \(binary.path): run `swift build` first (scripts/test does)")
        }
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        let stderrData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
                   stderr: String(decoding: stderrData, as: UTF8.self))
    }

    /// A document from JSON text; fails the test on bad JSON.
    public static func document(_ json: String) throws -> MetadataDocument {
        try MetadataDocument(bytes: Array(json.utf8), source: "test")
    }

    /// The configuration state of a root: generated files and the cache, without the
    /// runtime records in run/ec2-netgen (lock, last IMDS result).
    public static func configuration(_ root: URL) throws -> [String: Data] {
        try snapshot(root).filter { !$0.key.hasPrefix("/run/ec2-netgen/") }
    }

    /// Every file below `directory` with its bytes, keyed by relative path.
    public static func snapshot(_ directory: URL) throws -> [String: Data] {
        var result: [String: Data] = [:]
        guard let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil) else { return result }
        for case let url as URL in walker where !url.hasDirectoryPath {
            result[String(url.path.dropFirst(directory.path.count))] = try Data(contentsOf: url)
        }
        return result
    }
}
