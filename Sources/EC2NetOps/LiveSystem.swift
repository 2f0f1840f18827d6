import EC2NetCore
import EC2NetFS
import EC2NetIO

/// The seams of SystemEffects on the running system: thin wrappers, no decisions.

struct LiveNetworkd: NetworkdService {
    func reload() throws(IOError) -> ReloadOutcome {
        do {
            try NetworkdControl().reload()
            return .reloaded
        } catch where error.networkdAbsent {
            return .notRunning
        }
    }

    func isRunning() -> Bool {
        guard let bus = try? NetworkdControl() else { return false }
        // DescribeLink of the loopback link answers whenever networkd runs.
        return (try? bus.describeLink(index: 1)) != nil
    }

    func appliedNetworkFile(ifindex: Int) -> String? {
        if let file = describe(ifindex)?["NetworkFile"]?.string { return file }
        // networkd's state file, when the bus does not answer.
        guard let state = (try? FileIO.readTextIfPresent("/run/systemd/netif/links/\(ifindex)")).flatMap({ $0 }) else { return nil }
        for line in state.split(separator: "\n") where line.hasPrefix("NETWORK_FILE=") {
            return String(line.dropFirst("NETWORK_FILE=".count))
        }
        return nil
    }

    func setupState(ifindex: Int) -> String? { describe(ifindex)?["AdministrativeState"]?.string }

    func reconfigure(ifindex: Int) throws(IOError) { try NetworkdControl().reconfigureLink(index: Int32(ifindex)) }

    /// DescribeLink's JSON object; nil when networkd does not answer.
    private func describe(_ ifindex: Int) -> [String: JSONValue]? {
        guard let bus = try? NetworkdControl(), let description = try? bus.describeLink(index: Int32(ifindex)),
              case .object(let fields)? = try? JSONParser.parse(Array(description.utf8)) else { return nil }
        return fields
    }
}

struct LiveUdev: LinkTrigger {
    func reloadConfiguration() throws(IOError) { try UdevDevices.reloadConfiguration() }
    func triggerAdd(link: String) throws(IOError) { try UdevDevices.triggerAdd(linkName: link) }
}

struct LiveJournal: EventLog {
    func record(_ event: Journal.Event, priority: Int32, message: String, fields: [String: String]) {
        Journal.send(event, priority: priority, message: message, fields: fields)
    }
}

struct LiveKernel: KernelState {
    func rules() throws(IOError) -> [RoutingPolicyRule] { try Netlink.rules() }
    func routes() throws(IOError) -> [Netlink.Route] { try Netlink.routes() }
    func nexthops() throws(IOError) -> [Netlink.Nexthop] { try Netlink.nexthops() }
    func addresses() throws(IOError) -> [Netlink.Address] { try Netlink.addresses() }
}
