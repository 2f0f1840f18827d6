import ArgumentParser

/// The `ec2-netgen` command: reads instance metadata and links, writes systemd-networkd
/// files so every ENI's addresses route symmetrically.
struct EC2Netgen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ec2-netgen",
        abstract: "Policy routing for multi-NIC EC2 instances, as systemd-networkd files.",
        discussion: """
            Exit status: 0 ok; 1 runtime failure (IMDS, D-Bus, I/O); 2 bad usage or bad input.
            """,
        version: "0.10.1",
        subcommands: [PlanCommand.self, ApplyCommand.self, FetchCommand.self, StatusCommand.self, LinksCommand.self, ExplainCommand.self]
    )
}
