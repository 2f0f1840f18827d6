extension Plan {
    /// Every rule the plan puts in the kernel: the ENIs' and the main-table rules.
    public var allRules: [RoutingPolicyRule] {
        (interfaces.flatMap(\.rules) + mainRules).sorted()
    }

    /// Planned rules the kernel does not have (compared on priority, family, source, table
    /// and suppress_prefixlength; the kernel's own and foreign rules are ignored).
    public func rulesMissing(from kernel: [RoutingPolicyRule]) -> [RoutingPolicyRule] {
        allRules.filter { !kernel.contains($0) }
    }
}

extension RoutingPolicyRule: CustomStringConvertible {
    /// The rule as `ip rule` prints it, for messages.
    public var description: String {
        var text = "\(priority): from \(from?.description ?? "all") lookup \(table.map(String.init) ?? "main")"
        if let suppressPrefixLength { text += " suppress_prefixlength \(suppressPrefixLength)" }
        return text
    }
}

extension Route: CustomStringConvertible {
    /// The route as `ip route` would name it, for messages.
    public var description: String {
        "\(destination?.description ?? "default") \(gateway == .onLink ? "on-link" : "via " + gateway.rawValue) table \(table)"
    }
}
