import ArgumentParser
import EC2NetCore
import EC2NetFS
import EC2NetOps

/// The inputs `plan`, `apply` and `status` share: where metadata, links and configuration
/// come from.
struct InputOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Read the metadata document from FILE instead of IMDS.", valueName: "FILE"))
    var metadata: String?

    @Option(help: ArgumentHelp("Read links from a JSON FILE instead of sysfs.", valueName: "FILE"))
    var links: String?

    @Option(help: ArgumentHelp("Read configuration from FILE (default: /etc/ec2-netgen/ec2-netgen.conf and .conf.d/*.conf under the root).",
                               valueName: "FILE"))
    var config: String?

    /// The `--metadata` document; errors name the file.
    func document() throws -> MetadataDocument? {
        guard let metadata else { return nil }
        return try MetadataDocument(bytes: readInput(metadata, flag: "--metadata"), source: metadata)
    }

    /// `--links FILE`, else the links present under `root`.
    func loadLinks(root: String) throws -> [Link] { try Self.loadLinks(file: links, root: root) }

    static func loadLinks(file: String?, root: String) throws -> [Link] {
        guard let file else { return try presentLinks(root: root) }
        return try Link.parseList(readInput(file, flag: "--links"), source: file)
    }

    /// The configuration; `lenient` for the unattended paths, which log a bad line and
    /// carry on instead of refusing.
    func loadOptions(root: String, lenient: Bool = false) throws -> (PlanOptions, [ConfigurationProblem]) {
        if lenient { return ConfigurationFiles.loadLenient(root: root, explicit: config) }
        return (try ConfigurationFiles.load(root: root, explicit: config), [])
    }
}

/// A file the user named: unreadable is bad usage (exit 2), and the message names the flag.
func readInput(_ path: String, flag: String) throws -> [UInt8] {
    do {
        return try FileIO.read(path)
    } catch {
        throw Failure.usage("\(flag): \(error)")
    }
}
