/// Whether ec2-netgen configures an ENI, or why it leaves it alone: decided here and
/// nowhere else, from the facts the caller gathered (the link, what udev says of it, the
/// configuration's settings for the ENI).
///
/// Which links are EC2 network interfaces at all is udev's to say, in
/// `units/99-ec2-netgen.rules` (`EC2_NETGEN_NIC=1` for the drivers of `Link.enaDrivers`;
/// a test holds the two lists equal); an earlier rule setting `EC2_NETGEN_NIC=0` hands the
/// link to someone else.
public enum Management {
    /// The `ID_NET_MANAGED_BY` value naming ec2-netgen itself: not another manager.
    public static let ownManagerName = "io.ec2-netgen"

    /// How a link handed away by `EC2_NETGEN_NIC=0` is reported, in place of a manager.
    public static let udevOptOutName = "udev rule (EC2_NETGEN_NIC=0)"

    /// The manager udev names for a link: `EC2_NETGEN_NIC=0` first, else
    /// `ID_NET_MANAGED_BY`; nil when neither is set.
    public static func manager(ec2NetgenNIC: String?, managedBy: String?) -> String? {
        ec2NetgenNIC == "0" ? udevOptOutName : managedBy
    }

    /// Why an ENI is someone else's, or nil when it is ec2-netgen's to configure.
    public static func leftAlone(link: Link?, settings: InterfaceSettings) -> SkippedInterface.Reason? {
        guard settings.managed else { return .optedOut }
        if let manager = link?.managedBy, !manager.isEmpty, manager != ownManagerName { return .managedBy(manager) }
        return nil
    }

    /// Whether a skipped ENI's link gets a `79-` file (`Unmanaged=yes`): one left to someone
    /// else must not fall to the shipped catch-all's DHCP either.
    public static func keptFromCatchAll(_ reason: SkippedInterface.Reason) -> Bool {
        switch reason {
        case .optedOut, .managedBy: return true
        case .notAttached, .noAddresses, .incomplete: return false
        }
    }
}
