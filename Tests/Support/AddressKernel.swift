import EC2NetCore
import EC2NetIO
import EC2NetOps

public final class AddressKernel: KernelState {
    public var addressList: [Netlink.Address]
    public var dumps = 0
    /// Runs before each dump with its number (1 for the first): the kernel changing.
    public var onDump: (Int) -> Void = { _ in }
    public init(_ addresses: [Netlink.Address]) { addressList = addresses }
    public func rules() throws(IOError) -> [RoutingPolicyRule] { [] }
    public func routes() throws(IOError) -> [Netlink.Route] { [] }
    public func nexthops() throws(IOError) -> [Netlink.Nexthop] { [] }
    public func addresses() throws(IOError) -> [Netlink.Address] {
        dumps += 1
        onDump(dumps)
        return addressList
    }
}
