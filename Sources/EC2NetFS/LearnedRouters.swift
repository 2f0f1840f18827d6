import EC2NetCore
import Glibc

/// The IPv6 router each ENI's RAs came from, as apply last saw it in the kernel:
/// `ROOT/var/lib/ec2-netgen/ipv6-routers`, one `MAC ADDRESS` line per ENI. Kept beside the
/// metadata cache so the boot path (before any RA) renders the same route apply did.
public struct LearnedRouters: Sendable {
    /// Path of the file.
    public let path: String

    /// The file under a root.
    public init(root: String) { path = root.trimmingSlash + "/var/lib/ec2-netgen/ipv6-routers" }

    /// What the file says; a missing or unreadable file, or a line that does not parse,
    /// counts as nothing learned (the route then waits for the next RA, as before).
    public func load() -> [MACAddress: IPv6Address] {
        guard let text = (try? FileIO.readTextIfPresent(path)).flatMap({ $0 }) else { return [:] }
        return Self.parse(text)
    }

    /// The lines of the file, as `load` reads them.
    public static func parse(_ text: String) -> [MACAddress: IPv6Address] {
        var routers: [MACAddress: IPv6Address] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: " ")
            guard fields.count == 2, let mac = MACAddress(String(fields[0])), let router = IPv6Address(fields[1]) else { continue }
            routers[mac] = router
        }
        return routers
    }

    /// Replaces the file atomically when its content changes; returns false when it
    /// already held these routers.
    @discardableResult
    public func save(_ routers: [MACAddress: IPv6Address]) throws(FSError) -> Bool {
        var text = "# Written by ec2-netgen: the IPv6 router of each ENI's RAs (MAC, link-local address).\n"
        for (mac, router) in routers.sorted(by: { $0.key.description < $1.key.description }) {
            text += "\(mac) \(router)\n"
        }
        let bytes = Array(text.utf8)
        if let current = try? FileIO.read(path), FileIO.sameBytes(current, bytes) { return false }
        try FileIO.makeDirectories(FileIO.parent(of: path))
        try FileIO.writeAtomically(path, contents: bytes, mode: 0o644)
        return true
    }
}
