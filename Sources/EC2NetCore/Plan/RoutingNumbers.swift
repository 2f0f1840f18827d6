/// Table ids, metrics and rule priorities: the fixed numbers of docs/design.md.
/// Operators' runbooks use them, so they live in one place.
public enum RoutingNumbers {
    /// `10000 + 100·card + device`, the ids amazon-ec2-net-utils uses.
    public static func table(card: Int, device: Int) -> Int { 10000 + 100 * card + device }
    /// `512 + 100·card + device`: below networkd's default 1024 so a configured ENI beats
    /// one that only matched the catch-all file.
    public static func metric(card: Int, device: Int) -> Int { 512 + 100 * card + device }
    /// First band: `from ADDR lookup T suppress_prefixlength 0`.
    public static func vpcRulePriority(card: Int, device: Int) -> Int { 10000 + 100 * card + device }
    /// Between the bands: `lookup main suppress_prefixlength 0`, one per family.
    public static let mainRulePriority = 20000
    /// Second band: `from ADDR lookup T`. `21000 + 100·card + device` tops out at 24199
    /// (card 31, device 99): after the main-table rule at 20000 and before the kernel's
    /// `lookup main` at 32766 for every card: a band that passed 32766 would send the
    /// internet replies of the highest cards' ENIs to the main table (docs/design.md).
    public static func defaultRulePriority(card: Int, device: Int) -> Int { 21000 + 100 * card + device }
    /// Metric of an ENI table's IPv6 routes through the router learned from RAs: its VPC
    /// blocks, and the default's twin, which comes after the RA's own default (networkd's
    /// 1024) and stands in for it while a reconfigure has dropped that one and no RA has
    /// come yet.
    public static let learnedRouterMetric = 2048
}

extension RoutingNumbers {
    /// systemd-imdsd's firewall mark and table (`0x7FFF0815`, the same number): its
    /// marked sockets look up this table, which routes only to IMDS. ec2-netgen's own
    /// IMDS client marks its sockets too where systemd-imds runs (IMDSNetworking).
    public static let imdsMark: UInt32 = 0x7FFF_0815
    /// `imdsMark` as systemd-imdsd spells it in its file.
    public static let imdsTable = "0x" + String(imdsMark, radix: 16, uppercase: true)
    /// The rule `fwmark 0x7FFF0815 lookup 0x7FFF0815`, before the first band so a marked
    /// socket bound to an ENI's address still reaches IMDS. systemd-imdsd's own file
    /// gives it no priority, so the kernel would number it after whatever rules exist.
    public static let imdsRulePriority = 9000
    /// Where systemd-imds runs: `from ADDR fwmark 0x7FFF0815 lookup T` for each address of
    /// an ENI, before the mark rule, so a marked packet with that source leaves through its
    /// own ENI (imdsSourceRules).
    public static let imdsSourceRulePriority = 8999
    /// Where IMDS is locked: `to IMDS prohibit`, right after the mark rule.
    public static let imdsProhibitRulePriority = 9001
}
