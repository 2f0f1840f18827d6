import Glibc
import Synchronization

/// The packet budgets of a run's IMDS requests, one per link they leave from
/// (`PacketBudget`), shared with every other ec2-netgen process through files in
/// `configuration.budgetDirectory`.
final class LinkBudgets: Sendable {
    private let configuration: IMDSConfiguration
    /// Per source link ("" is the routing table's choice, the primary ENI).
    private let budgets = Mutex<[String: PacketBudget]>([:])

    init(_ configuration: IMDSConfiguration) {
        self.configuration = configuration
    }

    /// Takes one request's packets and returns how long that waited. A request bound to
    /// `link` is charged to it; one left to the routing table is charged to every
    /// candidate link, as any of them may carry it.
    func take(for link: String?) -> Duration {
        let charged = link.map { [$0] } ?? (configuration.candidateLinks.isEmpty ? [""] : configuration.candidateLinks)
        var waited = Duration.zero
        for name in charged { waited += budget(for: name).take(configuration.packetsPerRequest) }
        return waited
    }

    /// The packet budget of a link, made on first use.
    private func budget(for link: String) -> PacketBudget {
        budgets.withLock { budgets in
            if let budget = budgets[link] { return budget }
            var file: String?
            if let directory = configuration.budgetDirectory {
                // May exist; if it cannot be made, the open fails and the bucket is local.
                // 0755 whatever the umask, as every directory ec2-netgen makes.
                if mkdir(directory, 0o755) == 0 { chmod(directory, 0o755) }
                file = directory + "/imds-budget." + (link.isEmpty ? "default" : link)
            }
            let budget = PacketBudget(rate: configuration.packetsPerSecond, burst: configuration.packetBurst, stateFile: file)
            budgets[link] = budget
            return budget
        }
    }
}
