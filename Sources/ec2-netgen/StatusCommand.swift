import ArgumentParser
import EC2NetCore
import EC2NetFS
import EC2NetIO
import Glibc

/// `ec2-netgen status`: what ec2-netgen did and whether the system matches it, per ENI.
/// Exit 0 only when everything is in sync, so it can serve as a health check.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show per ENI what ec2-netgen configured and whether networkd and the kernel match it."
    )

    @Flag(help: "Print the status as JSON.")
    var json = false

    @Option(help: ArgumentHelp("Read everything under DIR; the kernel and networkd are only checked for /.", valueName: "DIR"))
    var root = "/"

    @Option(help: ArgumentHelp("Read links from a JSON FILE instead of sysfs.", valueName: "FILE"))
    var links: String?

    func run() throws {
        let report = try gather()
        if json {
            print(report.json().serialized(), terminator: "")
        } else {
            print(report.text(colour: isatty(1) == 1), terminator: "")
        }
        if !report.inSync { throw ExitCode(1) }
    }

    /// Collects the plan from the cache and compares it with files, networkd and the kernel.
    func gather() throws -> StatusReport {
        let cache = MetadataCache(root: root)
        guard let bytes = try cache.load() else {
            return StatusReport(problems: ["no metadata cache at \(cache.path): ec2-netgen has not applied successfully yet"])
        }
        let inputs = try InputOptions.parse(links.map { ["--links", $0] } ?? [])
        var options = try inputs.loadOptions(root: root)
        options.includeAbsentLinks = false
        let currentLinks = try inputs.loadLinks(root: root)
        let plan = try EC2NetCore.plan(EC2NetCore.parse(MetadataDocument(bytes: bytes, source: cache.path)), links: currentLinks, options: options)
        var report = StatusReport(problems: [])
        report.plan = plan
        report.options = options
        report.cacheAge = fileAge(cache.path)
        report.lastRun = LastRun(root: root).load()

        // Files: what is on disk against what the cache renders to.
        let directory = ManagedDirectory(root: root)
        for artifact in render(plan) {
            let path = directory.path + "/" + artifact.name
            let onDisk = try? FileIO.read(path)
            if onDisk != Array(artifact.contents.utf8) {
                report.problems.append("\(path) is \(onDisk == nil ? "missing" : "out of date"): run `ec2-netgen apply`")
            }
        }

        let live = root == "/"
        let kernelRules = live ? try? Netlink.rules() : nil
        let kernelRoutes = live ? try? Netlink.routes() : nil
        let bus = live ? try? NetworkdControl() : nil
        if !live { report.notes.append("networkd and the kernel are not checked under --root") }
        for interface in plan.interfaces {
            var entry = StatusReport.Interface(plan: interface)
            entry.expectedFile = directory.path + "/" + Artifact.networkName(for: interface.mac)
            if live, let link = currentLinks.first(where: { $0.name == interface.linkName }) {
                entry.appliedFile = appliedNetworkFile(index: link.index, bus: bus)
                if let applied = entry.appliedFile, applied != entry.expectedFile {
                    entry.problems.append("networkd applied \(applied), not \(entry.expectedFile): another file shadows ours")
                }
            }
            if let kernelRules {
                entry.missingRules = interface.rules.filter { !kernelRules.contains($0) }.map(\.description)
            }
            if let kernelRoutes {
                for route in interface.routes where !kernelRoutes.contains(where: { kernel in
                    kernel.family == route.family && kernel.table == route.table && kernel.destination == route.destination
                }) {
                    entry.missingRoutes.append(route.description)
                }
            }
            if !entry.missingRules.isEmpty { entry.problems.append("kernel lacks \(entry.missingRules.count) rule(s): \(entry.missingRules.joined(separator: "; "))") }
            if !entry.missingRoutes.isEmpty { entry.problems.append("kernel lacks route(s): \(entry.missingRoutes.joined(separator: "; "))") }
            report.interfaces.append(entry)
        }
        if let kernelRules {
            for rule in plan.mainRules where !kernelRules.contains(rule) {
                report.problems.append("kernel lacks the main-table rule \(rule)")
            }
        } else if live {
            report.problems.append("could not read the kernel's rules over rtnetlink")
        }
        return report
    }

    /// The `.network` file networkd applied: over D-Bus (`DescribeLink`), else from its
    /// state file in /run/systemd/netif; nil when networkd does not say.
    private func appliedNetworkFile(index: Int, bus: NetworkdControl?) -> String? {
        if let bus, let description = try? bus.describeLink(index: Int32(index)),
           case .object(let fields)? = try? JSONParser.parse(description), let file = fields["NetworkFile"]?.string {
            return file
        }
        guard let state = try? FileIO.readTextIfPresent("/run/systemd/netif/links/\(index)") else { return nil }
        for line in state.split(separator: "\n") where line.hasPrefix("NETWORK_FILE=") {
            return String(line.dropFirst("NETWORK_FILE=".count))
        }
        return nil
    }

    private func fileAge(_ path: String) -> Int? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int(time(nil)) - Int(info.st_mtim.tv_sec)
    }
}
