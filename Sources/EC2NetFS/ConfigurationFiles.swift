import EC2NetCore

/// Where the configuration lives and how it is read: the one home for both, used by the
/// CLI and the generator. `ROOT/etc/ec2-netgen/ec2-netgen.conf`, then
/// `ROOT/etc/ec2-netgen/ec2-netgen.conf.d/*.conf` in name order, later overriding earlier.
public enum ConfigurationFiles {
    /// The files under `root` that exist, in the order they apply.
    public static func paths(root: String) -> [String] {
        let directory = root.trimmingSlash + "/etc/ec2-netgen"
        var files = [directory + "/ec2-netgen.conf"]
        files += ((try? FileIO.list(directory + "/ec2-netgen.conf.d")) ?? []).filter { $0.hasSuffix(".conf") }
            .map { directory + "/ec2-netgen.conf.d/" + $0 }
        return files
    }

    /// Reads the configuration as a command run by hand must: `explicit` alone when
    /// given (`--config FILE`), else the standard files under `root`; the first bad line
    /// or unreadable file throws.
    public static func load(root: String, explicit: String? = nil) throws(ConfigurationProblem) -> PlanOptions {
        let (options, problems) = read(root: root, explicit: explicit, lenient: false)
        if let first = problems.first { throw first }
        return options
    }

    /// Reads the configuration as an unattended run (boot, udev, timer) must: every bad
    /// line or setting is returned as a problem and ignored, an unreadable file is
    /// skipped, and the rest applies, so the instance is still configured.
    public static func loadLenient(root: String, explicit: String? = nil) -> (PlanOptions, [ConfigurationProblem]) {
        read(root: root, explicit: explicit, lenient: true)
    }

    private static func read(root: String, explicit: String?, lenient: Bool) -> (PlanOptions, [ConfigurationProblem]) {
        var options = PlanOptions()
        // Not configuration but facts of the host that every plan must carry; read here
        // because every command that plans loads its options here.
        options.imdsNetworking = SystemdIMDSState.read(root: root)
        options.ipv6Routers = LearnedRouters(root: root).load()
        var problems: [ConfigurationProblem] = []
        for file in explicit.map({ [$0] }) ?? paths(root: root) {
            let text: String
            do {
                guard let found = try FileIO.readTextIfPresent(file) else {
                    if explicit != nil { problems.append(.unreadable(file: file, error: FSError(operation: "open", path: file, code: 2))) }
                    continue
                }
                text = found
            } catch {
                problems.append(.unreadable(file: file, error: error))
                if !lenient { break }
                continue
            }
            if lenient {
                var found: [InputError] = []
                options.apply(configText: text, file: file, ignoring: &found)
                problems += found.map(ConfigurationProblem.invalid)
            } else {
                do { try options.apply(configText: text, file: file) } catch {
                    problems.append(.invalid(error))
                    break
                }
            }
        }
        return (options, problems)
    }
}

/// A configuration file that could not be read or holds a bad line.
public enum ConfigurationProblem: Error, Equatable, Sendable, CustomStringConvertible {
    case unreadable(file: String, error: FSError)
    case invalid(InputError)

    public var description: String {
        switch self {
        case .unreadable(_, let error): return "\(error)"
        case .invalid(let error): return error.description
        }
    }
}
