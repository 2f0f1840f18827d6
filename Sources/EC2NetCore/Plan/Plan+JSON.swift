extension Plan {
    /// The plan as JSON, for `plan --json` and scripts: every number an operator looks
    /// up (table, metric, priorities) and the addresses, routes and rules per ENI.
    public func json() -> JSONValue {
        var root: [String: JSONValue] = [
            // The shape of this document, raised when a key changes meaning or goes.
            "schema": .number("1"),
            "interfaces": .array(interfaces.map { $0.json() }),
            "main-rules": .array(mainRules.map { $0.json() }),
            "skipped": .array(skipped.map { skipped in
                var entry: [String: JSONValue] = ["mac": .string(skipped.mac.description),
                                                  "reason": .string(skipped.reason.description)]
                if let id = skipped.interfaceID { entry["interface-id"] = .string(id) }
                return .object(entry)
            }),
        ]
        if let instanceID { root["instance-id"] = .string(instanceID) }
        // Absent means off: the plan of a host without systemd-imds is unchanged.
        if imdsNetworking != .off { root["systemd-imds-networking"] = .string(imdsNetworking.rawValue) }
        root["new-links"] = .string(newLinks.rawValue)
        return .object(root)
    }
}

extension InterfacePlan {
    func json() -> JSONValue {
        var entry: [String: JSONValue] = [
            "mac": .string(mac.description),
            "network-card": .number("\(card)"),
            "device-number": .number("\(device)"),
            "primary": .bool(isPrimary),
            "table": .number("\(table)"),
            "metric": .number("\(metric)"),
            "dhcp4": .bool(dhcp4),
            "ipv6": .bool(ipv6),
            "dhcp6": .bool(dhcp6),
            "main-table-default-route": .bool(mainTableDefaultRoute),
            "static-addresses": .array(addresses.map { .string($0.description) }),
            "routes": .array(routes.map { route in
                var entry: [String: JSONValue] = [
                    "destination": .string(route.destination?.description ?? "default"),
                    "family": .string(route.family.rawValue),
                    "gateway": .string(route.gateway.text),
                    "table": .number("\(route.table)"),
                ]
                if let metric = route.metric { entry["metric"] = .number("\(metric)") }
                return .object(entry)
            }),
            "rules": .array(rules.map { $0.json() }),
            "elastic-ips": .array(elasticIPs.map {
                .object(["public": .string($0.publicIP.description), "private": .string($0.privateIP.description)])
            }),
        ]
        if let interfaceID { entry["interface-id"] = .string(interfaceID) }
        entry["link"] = linkName.map(JSONValue.string) ?? .null
        return .object(entry)
    }
}

extension RoutingPolicyRule {
    func json() -> JSONValue {
        var entry: [String: JSONValue] = [
            "family": .string(family.rawValue),
            "table": table.map { .number("\($0)") } ?? .string("main"),
            "priority": .number("\(priority)"),
        ]
        if let from { entry["from"] = .string(from.description) }
        if let suppressPrefixLength { entry["suppress-prefixlength"] = .number("\(suppressPrefixLength)") }
        return .object(entry)
    }
}
