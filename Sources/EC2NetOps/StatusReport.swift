import EC2NetCore

/// What `status` found, rendered as a table for people or JSON for machines.
public struct StatusReport {
    /// One configured ENI and its checks.
    public struct Interface {
        public var plan: InterfacePlan
        public var expectedFile = ""
        public var appliedFile: String?
        public var missingRules: [String] = []
        public var missingRoutes: [String] = []
        public var problems: [StatusProblem] = []

        /// Every address with where it comes from, and its Elastic IP.
        public var addresses: [(address: String, source: String, elasticIP: String?)] {
            var result: [(String, String, String?)] = []
            let eips = Dictionary(plan.elasticIPs.map { ($0.privateIP.description, $0.publicIP.description) }, uniquingKeysWith: { a, _ in a })
            let staticAddresses = Set(plan.addresses.map { $0.address.description })
            for rule in plan.rules where rule.suppressPrefixLength != nil {
                guard let from = rule.from else { continue }
                let isHost = from.length == from.address.bitWidth
                let text = isHost ? from.address.description : from.description
                let source = !isHost ? "prefix" : (staticAddresses.contains(text) ? "static" : "dhcp")
                result.append((text, source, eips[text]))
            }
            return result
        }
    }

    public var problems: [StatusProblem]
    public var notes: [String] = []
    public var plan: Plan?
    public var options: PlanOptions?
    public var interfaces: [Interface] = []
    public var cacheAge: Int?
    public var lastRun: (ok: Bool, epoch: Int, detail: String)?

    /// True when nothing is wrong anywhere.
    public var inSync: Bool { problems.isEmpty && interfaces.allSatisfy { $0.problems.isEmpty } && plan != nil }

    public func json() -> JSONValue {
        var root: [String: JSONValue] = [
            // The shape of this document, raised when a key changes meaning or goes.
            "schema": .number("1"),
            "in-sync": .bool(inSync),
            "problems": .array((problems.map(\.detail) + interfaces.flatMap { entry in entry.problems.map { "\(entry.plan.linkName ?? entry.plan.mac.description): \($0)" } }).map(JSONValue.string)),
            "notes": .array(notes.map(JSONValue.string)),
            "interfaces": .array(interfaces.map { entry in
                var object: [String: JSONValue] = [
                    "link": entry.plan.linkName.map(JSONValue.string) ?? .null,
                    "mac": .string(entry.plan.mac.description),
                    "interface-id": entry.plan.interfaceID.map(JSONValue.string) ?? .null,
                    "network-card": .number(String(entry.plan.card)),
                    "device-number": .number(String(entry.plan.device)),
                    "table": .number(String(entry.plan.table)),
                    "rules": .number(String(entry.plan.rules.count)),
                    "expected-network-file": .string(entry.expectedFile),
                    "network-file": entry.appliedFile.map(JSONValue.string) ?? .null,
                    "missing-rules": .array(entry.missingRules.map(JSONValue.string)),
                    "missing-routes": .array(entry.missingRoutes.map(JSONValue.string)),
                    "in-sync": .bool(entry.problems.isEmpty),
                ]
                object["addresses"] = .array(entry.addresses.map { address in
                    var item: [String: JSONValue] = ["address": .string(address.address), "source": .string(address.source)]
                    if let eip = address.elasticIP { item["elastic-ip"] = .string(eip) }
                    return .object(item)
                })
                return .object(object)
            }),
            "skipped": .array((plan?.skipped ?? []).map { .object(["mac": .string($0.mac.description), "reason": .string($0.reason.description)]) }),
        ]
        if let cacheAge { root["cache-age-seconds"] = .number(String(cacheAge)) }
        if let lastRun {
            root["last-imds"] = .object(["ok": .bool(lastRun.ok), "epoch": .number(String(lastRun.epoch)), "detail": .string(lastRun.detail)])
        }
        if let options { root["configuration"] = configurationJSON(options) }
        return .object(root)
    }

    private func configurationJSON(_ options: PlanOptions) -> JSONValue {
        .object([
            "MainTableDefaultRoute": .bool(options.defaults.mainTableDefaultRoute),
            "AddressesFromPrefixes": .bool(options.defaults.addressesFromPrefixes),
            "interface-overrides": .number(String(options.overrides.count)),
            "IMDSEndpoint": options.service.imdsEndpoint.map(JSONValue.string) ?? .null,
            "IMDSEndpointMode": options.service.imdsEndpointMode.map(JSONValue.string) ?? .null,
            "IMDSSendFromOwnInterface": .bool(options.service.sendFromOwnInterface),
            "IMDSUseSystemdIMDS": .bool(options.service.useSystemdIMDS),
            "RefreshIntervalSec": options.service.refreshIntervalSeconds.map { .number(String($0)) } ?? .null,
        ])
    }

    public func text(colour: Bool) -> String {
        func paint(_ text: String, _ code: String) -> String { colour ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
        var lines: [String] = []
        lines.append(inSync ? paint("in sync", "32") : paint("NOT in sync", "31;1"))
        if let cacheAge { lines.append("metadata cache: \(cacheAge) s old") }
        if let lastRun { lines.append("last IMDS read: \(lastRun.ok ? "ok" : "FAILED") \(lastRun.detail)") }
        if let options {
            lines.append("configuration: MainTableDefaultRoute=\(options.defaults.mainTableDefaultRoute ? "yes" : "no") "
                         + "AddressesFromPrefixes=\(options.defaults.addressesFromPrefixes ? "yes" : "no") "
                         + "[Interface] sections: \(options.overrides.count)")
        }
        lines.append("")
        lines.append(pad(["LINK", "MAC", "ENI", "CARD/DEV", "TABLE", "RULES", "STATE"]))
        for entry in interfaces {
            lines.append(pad([entry.plan.linkName ?? "-", entry.plan.mac.description, entry.plan.interfaceID ?? "-",
                              "\(entry.plan.card)/\(entry.plan.device)", String(entry.plan.table), String(entry.plan.rules.count),
                              entry.problems.isEmpty ? paint("ok", "32") : paint("DRIFT", "31")]))
            for address in entry.addresses {
                lines.append("    \(address.address) (\(address.source))\(address.elasticIP.map { " ← \($0)" } ?? "")")
            }
            if let applied = entry.appliedFile { lines.append("    networkd applied \(applied)") }
            for problem in entry.problems { lines.append("    " + paint("! " + problem.detail, "31")) }
        }
        for skipped in plan?.skipped ?? [] {
            lines.append("skipped \(skipped)")
        }
        for problem in problems { lines.append(paint("! " + problem.detail, "31")) }
        for note in notes { lines.append("note: " + note) }
        return lines.joined(separator: "\n") + "\n"
    }

    private func pad(_ columns: [String]) -> String {
        let widths = [10, 18, 22, 9, 6, 6, 6]
        return zip(columns, widths).map { column, width in column.count >= width ? column + " " : column + String(repeating: " ", count: width - column.count) }
            .joined()
    }
}

extension StatusReport {
    /// The report for one ENI, named by its link name, MAC or ENI id (`status ens6`).
    /// Problems of the whole instance stay, since they concern that ENI too; a name that
    /// matches no configured ENI is itself a problem.
    public func only(_ name: String) -> StatusReport {
        var report = self
        report.interfaces = interfaces.filter { entry in
            entry.plan.linkName == name || entry.plan.interfaceID == name || MACAddress(name) == entry.plan.mac
        }
        if report.interfaces.isEmpty {
            report.problems.append(StatusProblem(.unknownENI, "no configured ENI is named \(quoted(name)) (a link name, MAC or ENI id)"))
        }
        return report
    }
}
