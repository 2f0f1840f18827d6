extension PlanOptions {
    /// Applies configuration files in order (main file, then `.conf.d/*.conf` sorted), as
    /// systemd does: later files override earlier ones. Unknown sections and keys are errors
    /// naming file, line and key, because a typo that silently does nothing is how an
    /// opt-out fails on a fleet. Throws the first problem and changes nothing then.
    public mutating func apply(configText text: String, file: String) throws(InputError) {
        _ = try INIParser.parse(text, file: file)  // the first malformed line, as before any setting
        var problems: [InputError] = []
        var result = self
        result.apply(configText: text, file: file, ignoring: &problems)
        if let first = problems.first { throw first }
        self = result
    }

    /// The unattended form (boot, udev, timer): like systemd with a bad unit line, every
    /// bad line or setting is recorded in `problems` and ignored, and the rest applies. A
    /// bad `[Interface]` setting drops that setting only; an `[Interface]` without a valid
    /// selector is dropped whole, since it cannot say which ENI it means.
    public mutating func apply(configText text: String, file: String, ignoring problems: inout [InputError]) {
        for section in INIParser.parse(text, file: file, problems: &problems) {
            switch section.name {
            case "Defaults":
                for entry in section.entries {
                    record(&problems) { () throws(InputError) in
                        switch entry.key {
                        case "Managed":
                            // yes, no, or primary: only the primary ENI (Kubernetes nodes).
                            if entry.value.lowercased() == "primary" {
                                (defaults.managed, primaryOnly) = (true, true)
                            } else if let flag = try? boolean(entry, file) {
                                (defaults.managed, primaryOnly) = (flag, false)
                            } else {
                                throw badValue(entry, "yes, no or primary", file)
                            }
                        case "MainTableDefaultRoute": defaults.mainTableDefaultRoute = try boolean(entry, file)
                        case "AddressesFromPrefixes": defaults.addressesFromPrefixes = try boolean(entry, file)
                        default: throw unknownKey(entry, section: section.name, file: file)
                        }
                    }
                }
            case "Interface":
                if let override = interfaceOverride(section, file: file, problems: &problems) { overrides.append(override) }
            case "IMDS":
                for entry in section.entries {
                    record(&problems) { () throws(InputError) in
                        switch entry.key {
                        case "Endpoint":
                            guard entry.value.hasPrefix("http://"), entry.value.utf8.count <= 128,
                                  !entry.value.contains(" ") else { throw badValue(entry, "an http://ADDRESS[:PORT] URL", file) }
                            service.imdsEndpoint = entry.value
                            service.imdsEndpointOrigin = "\(file):\(entry.line): [IMDS] Endpoint="
                        case "EndpointMode":
                            guard ["ipv4", "ipv6"].contains(entry.value.lowercased()) else { throw badValue(entry, "IPv4 or IPv6", file) }
                            service.imdsEndpointMode = entry.value
                            service.imdsEndpointModeOrigin = "\(file):\(entry.line): [IMDS] EndpointMode="
                        case "SendFromOwnInterface": service.sendFromOwnInterface = try boolean(entry, file)
                        case "UseSystemdIMDS": service.useSystemdIMDS = try boolean(entry, file)
                        default: throw unknownKey(entry, section: section.name, file: file)
                        }
                    }
                }
            case "Refresh":
                for entry in section.entries {
                    record(&problems) { () throws(InputError) in
                        guard entry.key == "IntervalSec" else { throw unknownKey(entry, section: section.name, file: file) }
                        guard let seconds = parseDecimal(entry.value, max: 86400), seconds >= 10 else {
                            throw badValue(entry, "a number of seconds from 10 to 86400", file)
                        }
                        service.refreshIntervalSeconds = seconds
                    }
                }
            default:
                problems.append(.config(file: file, line: section.line, message: "unknown section [\(section.name)]"))
            }
        }
    }

    /// Runs one setting; its error is recorded instead of thrown.
    private func record(_ problems: inout [InputError], _ body: () throws(InputError) -> Void) {
        do { try body() } catch { problems.append(error) }
    }

    private func interfaceOverride(_ section: INIParser.Section, file: String,
                                   problems: inout [InputError]) -> InterfaceOverride? {
        var selector: InterfaceSelector?
        var override = InterfaceOverride(selector: .linkName(""))
        for entry in section.entries {
            record(&problems) { () throws(InputError) in
                switch entry.key {
                case "MACAddress", "InterfaceId", "Name":
                    guard selector == nil else {
                        throw .config(file: file, line: entry.line, message: "[Interface] takes exactly one of MACAddress=, InterfaceId=, Name=")
                    }
                    selector = try parseSelector(entry, file: file)
                case "Managed": override.managed = try boolean(entry, file)
                case "MainTableDefaultRoute": override.mainTableDefaultRoute = try boolean(entry, file)
                case "AddressesFromPrefixes": override.addressesFromPrefixes = try boolean(entry, file)
                default: throw unknownKey(entry, section: section.name, file: file)
                }
            }
        }
        guard let selector else {
            problems.append(.config(file: file, line: section.line, message: "[Interface] needs MACAddress=, InterfaceId= or Name="))
            return nil
        }
        override.selector = selector
        return override
    }

    private func parseSelector(_ entry: INIParser.Entry, file: String) throws(InputError) -> InterfaceSelector {
        switch entry.key {
        case "MACAddress":
            guard let mac = MACAddress(entry.value) else { throw badValue(entry, "a MAC address", file) }
            return .mac(mac)
        case "InterfaceId":
            guard isIdentifier(entry.value, prefix: "eni-") else { throw badValue(entry, "an ENI id (eni-…)", file) }
            return .interfaceID(entry.value)
        default:
            guard Link.isValidName(entry.value) else { throw badValue(entry, "an interface name", file) }
            return .linkName(entry.value)
        }
    }

    private func boolean(_ entry: INIParser.Entry, _ file: String) throws(InputError) -> Bool {
        switch entry.value.lowercased() {
        case "yes", "true", "on", "1": return true
        case "no", "false", "off", "0": return false
        default: throw badValue(entry, "a boolean (yes/no)", file)
        }
    }

    private func badValue(_ entry: INIParser.Entry, _ expected: String, _ file: String) -> InputError {
        .config(file: file, line: entry.line, message: "\(entry.key)=\(quoted(entry.value)) is not \(expected)")
    }

    private func unknownKey(_ entry: INIParser.Entry, section: String, file: String) -> InputError {
        .config(file: file, line: entry.line, message: "unknown key \(entry.key)= in [\(section)]")
    }
}
