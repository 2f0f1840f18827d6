extension RoutingPolicyRule: CustomStringConvertible {
    /// The rule as `ip rule` prints it, for messages.
    public var description: String {
        var text = "\(priority): from \(from?.description ?? "all") lookup \(table.map(String.init) ?? "main")"
        if let suppressPrefixLength { text += " suppress_prefixlength \(suppressPrefixLength)" }
        return text
    }
}
