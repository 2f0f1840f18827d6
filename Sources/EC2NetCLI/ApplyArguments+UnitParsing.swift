extension ApplyArguments {
    /// Reads `apply`'s flags without swift-argument-parser, for the runs the units make
    /// (`apply --cached --boot [--from-cloud-init]` before networkd on every boot, `apply` on every timer tick,
    /// `apply --wait-for IFACE` on every attach). The argument parser's start-up reflects
    /// over every option of every subcommand, which is most of what a run that changes
    /// nothing costs (docs/decisions.md says how much).
    ///
    /// It accepts only what it is sure of: `--flag`, `--option VALUE`, `--option=VALUE`,
    /// each at most once, values not empty and not starting with `-`, and a combination
    /// `problem` does not refuse. For anything else, `--help` and every mistake included,
    /// it returns nil and the argument parser reads the command line, so help and error
    /// messages have one source. CLITests check that both readings agree.
    init?(unitArguments arguments: [String]) {
        guard arguments.first == "apply" else { return nil }
        var values = ApplyArguments()
        var seen: Set<String> = []
        var index = 1
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("--") else { return nil }
            var name = argument, attached: String?
            if let equals = argument.firstIndex(of: "=") {
                name = String(argument[..<equals])
                attached = String(argument[argument.index(after: equals)...])
            }
            guard seen.insert(name).inserted else { return nil }
            switch name {
            case "--cached", "--boot", "--from-cloud-init", "--no-reload", "--diff", "--unattended":
                guard attached == nil else { return nil }
                switch name {
                case "--cached": values.cached = true
                case "--boot": values.boot = true
                case "--from-cloud-init": values.fromCloudInit = true
                case "--no-reload": values.noReload = true
                case "--diff": values.diff = true
                default: values.unattended = true
                }
            case "--metadata", "--links", "--config", "--root", "--wait-for", "--wait-timeout", "--imds-endpoint", "--imds-deadline":
                let value: String
                if let attached {
                    value = attached
                } else {
                    guard index < arguments.count else { return nil }
                    value = arguments[index]
                    index += 1
                }
                guard let first = value.utf8.first, first != UInt8(ascii: "-") else { return nil }
                switch name {
                case "--metadata": values.inputs.metadata = value
                case "--links": values.inputs.links = value
                case "--config": values.inputs.config = value
                case "--root": values.root = value
                case "--wait-for": values.waitFor = value
                case "--imds-endpoint": values.imds.endpoint = value
                case "--wait-timeout":
                    guard let seconds = Double(value) else { return nil }
                    values.waitTimeoutSeconds = seconds
                default:
                    guard let seconds = Double(value) else { return nil }
                    values.imds.deadlineSeconds = seconds
                }
            default:
                return nil
            }
        }
        guard values.problem == nil else { return nil }
        self = values
    }
}
