/// What the catch-all does with an EC2 network interface that has no file of its own yet
/// (a hot-attached ENI while ec2-netgen reads its record): the plan decides, render writes
/// it (`catchAllFile`).
public enum NewLinks: String, Equatable, Sendable {
    /// DHCP on it, so IMDS is reachable: the shipped catch-all. For a plan that does not
    /// configure the instance's primary ENI on a present link (first boot, the boot path
    /// before coldplug, an image carrying another instance's cache, a document of another
    /// instance).
    case dhcp
    /// Up without an address until its file comes. Once the primary ENI is configured,
    /// ec2-netgen reads every ENI's record through it; an address on the new link before
    /// the link's rules exist would answer other subnets out of the primary, where the
    /// VPC's source/destination check drops the replies.
    case waitForFile = "wait-for-file"

    /// The one decision: wait for the file once the plan configures the primary ENI on a
    /// link that is present. A primary ENI is never detached and never moves to another
    /// instance, so its MAC on a present link means the plan is of this instance.
    public static func decide(planned: [InterfacePlan]) -> NewLinks {
        planned.contains { $0.isPrimary && $0.linkName != nil } ? .waitForFile : .dhcp
    }
}
