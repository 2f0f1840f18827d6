import EC2NetCore
import EC2NetFS
import EC2NetOps

/// Where metadata, links and configuration come from, as plain values: what
/// `InputOptions` declares as flags, and what the boot path's parser fills in directly.
struct Inputs: Equatable {
    /// `--metadata FILE`.
    var metadata: String?
    /// `--links FILE`.
    var links: String?
    /// `--config FILE`.
    var config: String?

    /// The `--metadata` document and the bytes it was read from; errors name the file.
    func document() throws -> (document: MetadataDocument, bytes: [UInt8])? {
        guard let metadata else { return nil }
        let bytes = try readInput(metadata, flag: "--metadata")
        return (try MetadataDocument(bytes: bytes, source: metadata), bytes)
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
