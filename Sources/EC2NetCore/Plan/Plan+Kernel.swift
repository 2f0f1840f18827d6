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
