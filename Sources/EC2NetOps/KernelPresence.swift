import EC2NetCore
import EC2NetIO

/// Whether the kernel holds what a plan asks networkd for: `status` reports what is
/// missing, an apply that stages a new address waits for it (AddressStaging.swift). A
/// route counts as present when its table has a route of that family to that
/// destination, whatever its next hop (networkd 257 installs a gateway as a nexthop
/// object, and the RA's route may stand in for a static one).
func missingRules(_ wanted: [RoutingPolicyRule], in kernel: [RoutingPolicyRule]) -> [RoutingPolicyRule] {
    wanted.filter { !kernel.contains($0) }
}

func missingRoutes(_ wanted: [Route], in kernel: [Netlink.Route]) -> [Route] {
    wanted.filter { route in
        !kernel.contains { $0.family == route.family && $0.table == route.table && $0.destination == route.destination }
    }
}
