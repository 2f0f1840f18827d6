/// The routing plan for the whole instance: the output of `plan(…)`, the input of
/// `render(…)` and of `plan --json`.
public struct Plan: Equatable, Sendable {
    /// `instance-id`, for display.
    public var instanceID: String?
    /// Configured ENIs, sorted by card, then device.
    public var interfaces: [InterfacePlan]
    /// The `lookup main suppress_prefixlength 0` rule per family in use (priority 20000);
    /// they belong to no ENI, so they are rendered on the loopback link.
    public var mainRules: [RoutingPolicyRule]
    /// ENIs that get no files, with the reason.
    public var skipped: [SkippedInterface]
    /// systemd-imds's IMDS networking, carried into every `.network` (IMDSNetworking).
    public var imdsNetworking: IMDSNetworking = .off
    /// What the catch-all does with a link that has no file yet (NewLinks).
    public var newLinks: NewLinks = .dhcp

    /// Creates a plan.
    public init(instanceID: String?, interfaces: [InterfacePlan], mainRules: [RoutingPolicyRule],
                skipped: [SkippedInterface]) {
        self.instanceID = instanceID
        self.interfaces = interfaces
        self.mainRules = mainRules
        self.skipped = skipped
    }
}
