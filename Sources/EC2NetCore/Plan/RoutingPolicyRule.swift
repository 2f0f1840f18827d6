/// A policy routing rule (`[RoutingPolicyRule]`), named after the networkd section.
public struct RoutingPolicyRule: Equatable, Comparable, Sendable {
    /// Source selector; nil matches every source of `family`.
    public var from: IPPrefix?
    /// Address family.
    public var family: IPFamily
    /// Table looked up: an ENI's table id, or nil for `main`.
    public var table: Int?
    /// Rule priority (lower is consulted first).
    public var priority: Int
    /// `SuppressPrefixLength=`: ignore routes this long or shorter (0 skips the default).
    public var suppressPrefixLength: Int?

    /// Creates a rule.
    public init(from: IPPrefix?, family: IPFamily, table: Int?, priority: Int, suppressPrefixLength: Int?) {
        self.from = from
        self.family = family
        self.table = table
        self.priority = priority
        self.suppressPrefixLength = suppressPrefixLength
    }

    /// Priority first (the order the kernel consults them), then family, then source.
    public static func < (lhs: RoutingPolicyRule, rhs: RoutingPolicyRule) -> Bool {
        if lhs.priority != rhs.priority { return lhs.priority < rhs.priority }
        if lhs.family != rhs.family { return lhs.family < rhs.family }
        switch (lhs.from, rhs.from) {
        case (nil, nil): return false
        case (nil, _): return true
        case (_, nil): return false
        case (let a?, let b?): return a < b
        }
    }
}
