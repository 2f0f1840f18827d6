extension Route: CustomStringConvertible {
    /// The route as `ip route` would name it, for messages.
    public var description: String {
        "\(destination?.description ?? "default") \(gateway == .onLink ? "on-link" : "via " + gateway.text) table \(table)\(metric.map { " metric \($0)" } ?? "")"
    }
}
