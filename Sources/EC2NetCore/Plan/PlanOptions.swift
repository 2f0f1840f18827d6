/// What the operator can change about the plan (`ec2-netgen.conf`), plus how the run was
/// started.
public struct PlanOptions: Equatable, Sendable {
    /// Settings for every ENI unless an `[Interface]` section says otherwise.
    public var defaults = InterfaceSettings()
    /// Per-ENI overrides, in file order; later matches win.
    public var overrides: [InterfaceOverride] = []
    /// `[Defaults] Managed=primary`: only the primary ENI is managed unless an
    /// `[Interface]` says otherwise. For Kubernetes nodes, whose CNI (aws-vpc-cni, Cilium
    /// in ENI mode) attaches and configures the secondary ENIs itself.
    public var primaryOnly = false
    /// `apply --boot`: render every ENI of the metadata whether or not its link exists
    /// yet (links appear only during udev coldplug, after the boot service ran).
    public var includeAbsentLinks = false
    /// systemd-imds's IMDS networking on this host, which every `.network` ec2-netgen
    /// writes must carry (read from the host with the configuration files).
    public var imdsNetworking = IMDSNetworking.off
    /// The IPv6 router (link-local address) each ENI's RAs came from, by MAC, as the last
    /// apply saw it in the kernel (read with the configuration files, like
    /// `imdsNetworking`). An ENI's table keeps a route through it across a reconfigure,
    /// which drops the RA-learned routes until the next RA.
    public var ipv6Routers: [MACAddress: IPv6Address] = [:]
    /// Settings of the same configuration files that are not about the plan (IMDS
    /// endpoint, refresh interval); carried here so one parser reads one file format.
    public var service = ServiceSettings()

    /// Default options: every ENI managed, default routes in main, no prefix addresses.
    public init() {}

    /// The effective settings for one ENI.
    public func settings(mac: MACAddress, interfaceID: String?, linkName: String?, isPrimary: Bool = true) -> InterfaceSettings {
        var result = defaults
        if primaryOnly && !isPrimary { result.managed = false }
        for override in overrides where override.selector.matches(mac: mac, interfaceID: interfaceID, linkName: linkName) {
            if let managed = override.managed { result.managed = managed }
            if let main = override.mainTableDefaultRoute { result.mainTableDefaultRoute = main }
            if let prefixes = override.addressesFromPrefixes { result.addressesFromPrefixes = prefixes }
        }
        return result
    }
}

/// The per-ENI knobs, successors of amazon-ec2-net-utils v1's per-interface variables.
public struct InterfaceSettings: Equatable, Sendable {
    /// `Managed=` (v1 `EC2SYNC`): false leaves the ENI entirely to someone else.
    public var managed = true
    /// `MainTableDefaultRoute=` (v1 `MAINROUTETABLE`): keep the lease's default route in
    /// the main table (with the ENI's metric) or only in the ENI's own table.
    public var mainTableDefaultRoute = true
    /// `AddressesFromPrefixes=` (v1 `EC2PROVISIONPFXIPS`): assign every address of the
    /// delegated IPv4 prefixes to the link, not just route them.
    public var addressesFromPrefixes = false

    /// The defaults.
    public init() {}
}

/// An `[Interface]` section: which ENI it selects and what it changes.
public struct InterfaceOverride: Equatable, Sendable {
    /// The ENI it applies to.
    public var selector: InterfaceSelector
    /// `Managed=`, when set.
    public var managed: Bool?
    /// `MainTableDefaultRoute=`, when set.
    public var mainTableDefaultRoute: Bool?
    /// `AddressesFromPrefixes=`, when set.
    public var addressesFromPrefixes: Bool?

    /// Creates an override.
    public init(selector: InterfaceSelector, managed: Bool? = nil, mainTableDefaultRoute: Bool? = nil,
                addressesFromPrefixes: Bool? = nil) {
        self.selector = selector
        self.managed = managed
        self.mainTableDefaultRoute = mainTableDefaultRoute
        self.addressesFromPrefixes = addressesFromPrefixes
    }
}

/// How an operator names an ENI: by MAC, by ENI id or by link name.
public enum InterfaceSelector: Equatable, Sendable {
    case mac(MACAddress)
    case interfaceID(String)
    case linkName(String)

    /// True when this selector names the given ENI.
    public func matches(mac: MACAddress, interfaceID: String?, linkName: String?) -> Bool {
        switch self {
        case .mac(let selected): return selected == mac
        case .interfaceID(let selected): return selected == interfaceID
        case .linkName(let selected): return selected == linkName
        }
    }
}

/// `[IMDS]` and `[Refresh]`: how ec2-netgen runs, not what it plans.
public struct ServiceSettings: Equatable, Sendable {
    /// `[IMDS] Endpoint=`: used when neither `--imds-endpoint` nor
    /// `AWS_EC2_METADATA_SERVICE_ENDPOINT` is given.
    public var imdsEndpoint: String?
    /// `[IMDS] EndpointMode=IPv4|IPv6`: used when `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE`
    /// is not set.
    public var imdsEndpointMode: String?
    /// Where each of the two was set (`FILE:LINE [IMDS] Endpoint=`), for errors.
    public var imdsEndpointOrigin: String?
    public var imdsEndpointModeOrigin: String?
    /// `[IMDS] SendFromOwnInterface=yes|no` (default yes): requests about an ENI leave
    /// from that ENI, so each ENI's link-local budget carries its own. `no` sends every
    /// request the default way (the primary), paced by that one budget.
    public var sendFromOwnInterface = true
    /// `[IMDS] UseSystemdIMDS=yes|no` (default no): read IMDS through systemd's IMDS
    /// service where it listens (`IMDSReadPath`).
    public var useSystemdIMDS = false
    /// `[Refresh] IntervalSec=`: the refresh timer's period; the generator turns it into
    /// a timer drop-in.
    public var refreshIntervalSeconds: Int?

    /// No settings.
    public init() {}
}
