import EC2NetCore
import Glibc

/// Reads links from `ROOT/sys/class/net`: name, MAC, ifindex, driver. The plain-sysfs
/// path of docs/design.md, used under `--root` and when there is no udev database.
public enum SysfsLinkReader {
    /// ARPHRD_ETHER: only Ethernet links can be ENIs.
    static let etherType = "1"

    /// Every Ethernet link with a readable MAC, sorted by ifindex. Links that vanish while
    /// being read (a detach racing us) are skipped, not errors.
    public static func links(root: String) throws(FSError) -> [Link] {
        let base = root.trimmingSlash + "/sys/class/net"
        var links: [Link] = []
        for name in try FileIO.list(base) where Link.isValidName(name) {
            let directory = base + "/" + name
            guard let type = field(directory + "/type"), type == etherType,
                  let address = field(directory + "/address"), let mac = MACAddress(address),
                  let indexText = field(directory + "/ifindex"), let index = Int(indexText) else { continue }
            let driver = FileIO.readLink(directory + "/device/driver").map(FileIO.basename(of:)) ?? ""
            links.append(Link(name: name, mac: mac, driver: driver, index: index))
        }
        return links.sorted { $0.index < $1.index }
    }

    /// A one-line sysfs attribute without its newline, or nil.
    private static func field(_ path: String) -> String? {
        guard let bytes = try? FileIO.read(path, limit: 4096) else { return nil }
        var text = String(decoding: bytes, as: UTF8.self)
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }
}
