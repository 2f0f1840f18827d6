import EC2NetCore
import EC2NetFS
import Foundation
import Testing
import EC2NetTestSupport

/// systemd-imds (systemd 261+): which IMDS networking a host has, and that every file
/// ec2-netgen writes carries it.
struct SystemdIMDSTests {
    /// The parts of systemd-imdsd's early-network file the decision reads: the prohibit
    /// routes exist only in locked mode (the scenario suite on networkd 262 runs the real
    /// `systemd-imdsd --setup-network`).
    static let unlockedEarlyFile = """
        [Match]
        Type=ether

        [Network]
        DHCP=yes

        [Route]
        Destination=169.254.169.254
        Scope=link
        Table=0x7FFF0815

        [RoutingPolicyRule]
        Family=ipv4
        FirewallMark=0x7FFF0815
        Table=0x7FFF0815
        """
    static let lockedEarlyFile = unlockedEarlyFile + """

        [Route]
        Destination=169.254.169.254
        Type=prohibit

        [Route]
        Destination=fd00:ec2::254
        Type=prohibit
        """

    @Test("the early-network file decides when systemd-imdsd has written it, whatever the command line says")
    func earlyFileWins() {
        #expect(IMDSNetworking.decide(earlyNetworkFile: Self.lockedEarlyFile, kernelCommandLine: "systemd.imds.network=unlocked",
                                      daemonInstalled: true) == .locked)
        #expect(IMDSNetworking.decide(earlyNetworkFile: Self.unlockedEarlyFile, kernelCommandLine: "systemd.imds.network=locked",
                                      daemonInstalled: true) == .unlocked)
    }

    @Test("before the early-network file exists, the command line decides as systemd-imdsd will; unlocked by default")
    func commandLine() {
        func mode(_ line: String?, installed: Bool = true) -> IMDSNetworking {
            IMDSNetworking.decide(earlyNetworkFile: nil, kernelCommandLine: line, daemonInstalled: installed)
        }
        #expect(mode("BOOT_IMAGE=/vmlinuz root=/dev/vda1 systemd.imds.network=locked quiet\n") == .locked)
        #expect(mode("systemd.imds.network=off") == .off)
        #expect(mode("root=/dev/vda1") == .unlocked)
        #expect(mode(nil) == .unlocked)
        // The last known value wins; an unknown one is ignored, as systemd ignores it.
        #expect(mode("systemd.imds.network=locked systemd.imds.network=unlocked") == .unlocked)
        #expect(mode("systemd.imds.network=locked systemd.imds.network=bogus") == .locked)
        // Without systemd-imds nothing sets IMDS networking up, whatever the command line.
        #expect(mode("systemd.imds.network=locked", installed: false) == .off)
    }

    @Test("the host's state is read under the root: early file, /proc/cmdline, the daemon")
    func hostState() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(SystemdIMDSState.read(root: root.path) == .off)
        let daemon = root.appendingPathComponent("usr/lib/systemd/systemd-imdsd")
        try FileManager.default.createDirectory(at: daemon.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data().write(to: daemon)
        #expect(SystemdIMDSState.read(root: root.path) == .off, "a daemon that is not executable is not installed")
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: daemon.path)
        #expect(SystemdIMDSState.read(root: root.path) == .unlocked)
        let proc = root.appendingPathComponent("proc")
        try FileManager.default.createDirectory(at: proc, withIntermediateDirectories: true)
        try "ro systemd.imds.network=locked\n".write(to: proc.appendingPathComponent("cmdline"), atomically: true, encoding: .utf8)
        #expect(SystemdIMDSState.read(root: root.path) == .locked)
        let network = root.appendingPathComponent("run/systemd/network")
        try FileManager.default.createDirectory(at: network, withIntermediateDirectories: true)
        try Self.unlockedEarlyFile.write(to: network.appendingPathComponent("85-imds-early.network"), atomically: true, encoding: .utf8)
        #expect(SystemdIMDSState.read(root: root.path) == .unlocked)
    }

    @Test("the shipped catch-all is the rendered one without systemd-imds")
    func shippedCatchAll() throws {
        let shipped = try Data(contentsOf: TestSupport.repository.appendingPathComponent("units/80-ec2-netgen-default.network"))
        #expect(Array(shipped) == catchAllFile(imds: .off))
    }

    @Test("locked: every ENI's file and a catch-all in /run carry the prohibit routes, the daemon's table and rule")
    func lockedFiles() throws {
        let document = try TestSupport.document(#"""
            {"meta-data": {"instance-id": "i-1", "mac": "02:00:00:00:00:01", "network": {"interfaces": {"macs": {
              "02:00:00:00:00:01": {"device-number": "0", "local-ipv4s": "10.0.1.10", "subnet-ipv4-cidr-block": "10.0.1.0/24"},
              "02:00:00:00:00:02": {"device-number": "1", "local-ipv4s": "10.0.2.20", "subnet-ipv4-cidr-block": "10.0.2.0/24"}}}}}}
            """#)
        let links = [Link(name: "ens5", mac: MACAddress("02:00:00:00:00:01")!, driver: "ena", index: 2),
                     Link(name: "ens6", mac: MACAddress("02:00:00:00:00:02")!, driver: "ena", index: 3)]
        var options = PlanOptions()
        // Without systemd-imds the catch-all in /run only holds new links back (NewLinks).
        #expect(render(try plan(parse(document), links: links, options: options)).first { $0.name == Artifact.catchAllName }?.bytes
            == catchAllFile(imds: .off, newLinks: .waitForFile))
        options.imdsNetworking = .locked
        let artifacts = render(try plan(parse(document), links: links, options: options))
        let networks = artifacts.filter { $0.name.hasPrefix(Artifact.namePrefix + "02") && $0.name.hasSuffix(".network") }
        #expect(networks.count == 2)
        for file in networks {
            let sections = try INIParser.parse(file.contents, file: file.name)
            let prohibited = sections.filter { $0.name == "Route" && $0.entries.contains { $0.key == "Type" && $0.value == "prohibit" } }
            #expect(prohibited.map { $0.entries.first?.value } == ["169.254.169.254", "fd00:ec2::254"], "\(file.name)")
            let marked = sections.filter { $0.name == "RoutingPolicyRule" && $0.entries.contains { $0.key == "FirewallMark" } }
            let bySource = marked.filter { $0.entries.contains { $0.key == "From" } }
            let markOnly = marked.filter { !$0.entries.contains { $0.key == "From" } }
            #expect(markOnly.count == 2, "\(file.name): one mark rule per family")
            #expect(markOnly.allSatisfy { $0.entries.contains { $0.key == "Priority" && $0.value == "9000" } })
            // Each of the ENI's addresses sends marked packets through its own table, before the
            // mark rule: the IPv4 address of this ENI included (imdsSourceRules).
            let table = file.name.hasSuffix("01.network") ? "10000" : "10001"
            #expect(!bySource.isEmpty && bySource.allSatisfy {
                $0.entries.contains { $0.key == "Priority" && $0.value == "8999" } && $0.entries.contains { $0.key == "Table" && $0.value == table }
            }, "\(file.name): \(bySource)")
            #expect(bySource.contains { $0.entries.contains { $0.key == "Family" && $0.value == "ipv4" } }, "\(file.name)")
        }
        let catchAll = try #require(artifacts.first { $0.name == Artifact.catchAllName })
        #expect(catchAll.contents.contains("Type=prohibit"))
        #expect(catchAll.contents.contains("Property=EC2_NETGEN_NIC=1"))
        // Unlocked: the daemon's table and rule, no prohibit route.
        options.imdsNetworking = .unlocked
        let unlocked = render(try plan(parse(document), links: links, options: options))
        #expect(unlocked.allSatisfy { !$0.contents.contains("Type=prohibit") })
        #expect(unlocked.first { $0.name == Artifact.catchAllName }?.contents.contains("FirewallMark=0x7FFF0815") == true)
    }
}
