import EC2NetCore
import EC2NetIO
import EC2NetOps

/// A kernel whose RA routes appear only from a given route dump on: a router
/// advertisement that arrives while an apply is running.
public final class LateRAKernel: KernelState {
    public let raRoutes: [Netlink.Route]
    /// The first route dump that shows `raRoutes` (1 for the first); nil: never.
    public let shownFrom: Int?
    public private(set) var routeDumps = 0
    public init(raRoutes: [Netlink.Route], shownFrom: Int?) {
        self.raRoutes = raRoutes
        self.shownFrom = shownFrom
    }
    public func rules() throws(IOError) -> [RoutingPolicyRule] { [] }
    public func routes() throws(IOError) -> [Netlink.Route] {
        routeDumps += 1
        return shownFrom.map { routeDumps >= $0 } == true ? raRoutes : []
    }
    public func nexthops() throws(IOError) -> [Netlink.Nexthop] { [] }
    public func addresses() throws(IOError) -> [Netlink.Address] { [] }
}
