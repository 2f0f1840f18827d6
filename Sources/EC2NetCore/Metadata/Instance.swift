/// The instance as the planner needs it: which ENI is primary and what each ENI holds.
public struct Instance: Equatable, Sendable {
    /// `instance-id`, for display.
    public var instanceID: String?
    /// The top-level `mac`: the primary ENI. Only this one may have device-number 0 on
    /// card 0; anything else reading 0 there is IMDS lag after a hot attach.
    public var primaryMAC: MACAddress
    /// Every MAC directory, sorted by MAC.
    public var interfaces: [NetworkInterface]

    /// Creates an instance.
    public init(instanceID: String?, primaryMAC: MACAddress, interfaces: [NetworkInterface]) {
        self.instanceID = instanceID
        self.primaryMAC = primaryMAC
        self.interfaces = interfaces
    }

    /// The primary ENI's record.
    public var primary: NetworkInterface? { interfaces.first { $0.mac == primaryMAC } }
}
