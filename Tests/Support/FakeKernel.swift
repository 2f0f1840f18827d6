import EC2NetCore
import EC2NetIO
import EC2NetOps

public struct FakeKernel: KernelState {
    public var ruleList: [RoutingPolicyRule]
    public var routeList: [Netlink.Route]
    public var nexthopList: [Netlink.Nexthop] = []
    public var addressList: [Netlink.Address] = []
    public init(ruleList: [RoutingPolicyRule], routeList: [Netlink.Route], nexthopList: [Netlink.Nexthop] = [],
                addressList: [Netlink.Address] = []) {
        self.ruleList = ruleList
        self.routeList = routeList
        self.nexthopList = nexthopList
        self.addressList = addressList
    }
    public func rules() throws(IOError) -> [RoutingPolicyRule] { ruleList }
    public func routes() throws(IOError) -> [Netlink.Route] { routeList }
    public func nexthops() throws(IOError) -> [Netlink.Nexthop] { nexthopList }
    public func addresses() throws(IOError) -> [Netlink.Address] { addressList }
}
