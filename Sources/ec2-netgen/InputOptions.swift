import ArgumentParser
import EC2NetCore
import EC2NetFS
import EC2NetIO

/// The inputs `plan` and `apply` share: where metadata, links and configuration come from.
struct InputOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Read the metadata document from FILE instead of IMDS.", valueName: "FILE"))
    var metadata: String?

    @Option(help: ArgumentHelp("Read links from a JSON FILE instead of sysfs.", valueName: "FILE"))
    var links: String?

    @Option(help: ArgumentHelp("Read configuration from FILE (default: /etc/ec2-netgen/ec2-netgen.conf and .conf.d/*.conf under the root).",
                               valueName: "FILE"))
    var config: String?

    /// Parses the metadata document at `path`; errors name the file.
    static func loadDocument(path: String) throws -> MetadataDocument {
        let bytes: [UInt8]
        do {
            bytes = try FileIO.read(path)
        } catch {
            // A missing or unreadable input file is the user's input: exit 2.
            throw Failure.usage("--metadata: \(error)")
        }
        return try MetadataDocument(bytes: bytes, source: path)
    }

    /// The links: from `--links`; else from sd-device when running on the real root with a
    /// udev database (it carries `ID_NET_MANAGED_BY`); else from sysfs under `root`.
    func loadLinks(root: String) throws -> [Link] {
        guard let links else {
            if root == "/" && UdevDevices.databaseAvailable { return try UdevDevices.links() }
            return try SysfsLinkReader.links(root: root)
        }
        let bytes: [UInt8]
        do {
            bytes = try FileIO.read(links)
        } catch {
            throw Failure.usage("--links: \(error)")
        }
        return try Link.parseList(bytes, source: links)
    }

    /// The plan options: `--config FILE` alone, or the standard files under `root` when
    /// they exist.
    func loadOptions(root: String) throws -> PlanOptions {
        var options = PlanOptions()
        if let config {
            guard let text = try? FileIO.readTextIfPresent(config) else {
                throw Failure.usage("--config: cannot read \(config)")
            }
            try options.apply(configText: text, file: config)
            return options
        }
        let directory = (root == "/" ? "" : root) + "/etc/ec2-netgen"
        var files = [directory + "/ec2-netgen.conf"]
        files += try FileIO.list(directory + "/ec2-netgen.conf.d").filter { $0.hasSuffix(".conf") }
            .map { directory + "/ec2-netgen.conf.d/" + $0 }
        for file in files {
            if let text = try FileIO.readTextIfPresent(file) { try options.apply(configText: text, file: file) }
        }
        return options
    }
}
