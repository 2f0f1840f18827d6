import EC2NetCore
import EC2NetIO
import EC2NetOps

/// A kernel whose addresses, rules and routes a test sets, typically from a fake
/// networkd's reload (what networkd installs from the files it was given).
public final class AddressKernel: KernelState {
    public var addressList: [Netlink.Address]
    public var ruleList: [RoutingPolicyRule] = []
    public var routeList: [Netlink.Route] = []
    /// Address dumps so far.
    public var dumps = 0
    /// Runs before each address dump with its number (1 for the first): the kernel changing.
    public var onDump: (Int) -> Void = { _ in }
    public init(_ addresses: [Netlink.Address]) { addressList = addresses }
    public func rules() throws(IOError) -> [RoutingPolicyRule] { ruleList }
    public func routes() throws(IOError) -> [Netlink.Route] { routeList }
    public func nexthops() throws(IOError) -> [Netlink.Nexthop] { [] }
    public func addresses() throws(IOError) -> [Netlink.Address] {
        dumps += 1
        onDump(dumps)
        return addressList
    }

    /// What networkd installs for `plan`'s ENIs: their rules and the routes of their
    /// tables (addresses are the test's to place).
    public func install(_ plan: Plan) {
        ruleList = plan.interfaces.flatMap(\.rules) + plan.mainRules
        routeList = plan.interfaces.flatMap(\.routes).map {
            Netlink.Route(family: $0.family, table: $0.table, destination: $0.destination)
        }
    }
}
