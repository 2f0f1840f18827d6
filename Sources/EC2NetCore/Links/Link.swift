/// A kernel network link as sysfs/udev shows it: the other half of the MAC join.
public struct Link: Equatable, Sendable {
    /// Interface name (`ens5`).
    public var name: String
    /// Current MAC address.
    public var mac: MACAddress
    /// Kernel driver (`ena`, `ixgbevf`, `vif`, `veth`…); empty for virtual links without one.
    public var driver: String
    /// ifindex.
    public var index: Int
    /// `ID_NET_MANAGED_BY` from udev when set: a link another manager claims is left alone.
    public var managedBy: String?

    /// Creates a link.
    public init(name: String, mac: MACAddress, driver: String, index: Int, managedBy: String? = nil) {
        self.name = name
        self.mac = mac
        self.driver = driver
        self.index = index
        self.managedBy = managedBy
    }

    /// Drivers of EC2 network interfaces, as `units/99-ec2-netgen.rules` lists them for
    /// udev (a test holds the two equal); when a VLAN or bond shares an ENI's MAC these
    /// decide which link is the ENI.
    public static let enaDrivers: Set<String> = ["ena", "ixgbevf", "vif"]

    /// True for a valid kernel interface name: 1–15 bytes, no `/`, `:`, whitespace or
    /// control characters, not `.` or `..` (the kernel's own dev_valid_name rules).
    public static func isValidName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...15).contains(bytes.count), name != ".", name != ".." else { return false }
        return bytes.allSatisfy { $0 > 0x20 && $0 < 0x7f && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: ":") }
    }
}
