import CSystemd
import EC2NetCore
import Glibc

/// Links and udev events through sd-device (docs/design.md): udev properties such
/// as `ID_NET_MANAGED_BY` are only visible there.
public enum UdevDevices {
    /// True when the udev database exists, so sd-device can report properties.
    public static var databaseAvailable: Bool { access("/run/udev/data", F_OK) == 0 }

    /// Every net device with a MAC, from sd-device. The driver is the parent device's
    /// (`ID_NET_DRIVER` when udev recorded it).
    public static func links() throws(IOError) -> [Link] {
        var enumerator: OpaquePointer?
        var result = sd_device_enumerator_new(&enumerator)
        guard result >= 0 else { throw .udev(operation: "enumerate net devices", code: -result) }
        defer { sd_device_enumerator_unref(enumerator) }
        // Without this, devices udev has not processed yet (or any device, when no udevd
        // runs) are silently left out.
        sd_device_enumerator_allow_uninitialized(enumerator)
        result = sd_device_enumerator_add_match_subsystem(enumerator, "net", 1)
        guard result >= 0 else { throw .udev(operation: "match subsystem net", code: -result) }
        var links: [Link] = []
        var device = sd_device_enumerator_get_device_first(enumerator)
        while let current = device {
            if let link = link(from: current) { links.append(link) }
            device = sd_device_enumerator_get_device_next(enumerator)
        }
        return links.sorted { $0.index < $1.index }
    }

    private static func link(from device: OpaquePointer) -> Link? {
        var name: UnsafePointer<CChar>?
        var index: Int32 = 0
        guard sd_device_get_sysname(device, &name) >= 0, let name, sd_device_get_ifindex(device, &index) >= 0,
              let address = attribute(device, "address"), let mac = MACAddress(address),
              attribute(device, "type") == "1" else { return nil }
        var driver = property(device, "ID_NET_DRIVER") ?? ""
        if driver.isEmpty {
            var parent: OpaquePointer?
            var parentDriver: UnsafePointer<CChar>?
            if sd_device_get_parent(device, &parent) >= 0, sd_device_get_driver(parent, &parentDriver) >= 0, let parentDriver {
                driver = String(cString: parentDriver)
            }
        }
        return Link(name: String(cString: name), mac: mac, driver: driver, index: Int(index),
                    managedBy: Management.manager(ec2NetgenNIC: property(device, "EC2_NETGEN_NIC"),
                                                  managedBy: property(device, "ID_NET_MANAGED_BY")))
    }

    private static func attribute(_ device: OpaquePointer, _ name: String) -> String? {
        var value: UnsafePointer<CChar>?
        guard sd_device_get_sysattr_value(device, name, &value) >= 0, let value else { return nil }
        var text = String(cString: value)
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    private static func property(_ device: OpaquePointer, _ name: String) -> String? {
        var value: UnsafePointer<CChar>?
        guard sd_device_get_property_value(device, name, &value) >= 0, let value else { return nil }
        return String(cString: value)
    }

    /// Asks udevd to re-read its rules and `.link` files now (`udevadm control --reload`),
    /// so the next event of a link sees a `.link` file just written. Left to itself, udevd
    /// notices changed `.link` directories only when it next checks their timestamps, a
    /// check it rate-limits: an `add` re-sent right after writing the file often still got
    /// the old configuration (99-default.link, no altnames). udevd's control socket speaks
    /// a private, version-specific message format; udevadm is its stable interface.
    /// Returns once udevd has answered (udevadm waits for it), at most `timeoutSeconds`.
    /// Without udevd (no control socket: a container, a namespace test) there is nothing
    /// to reload: a udevd started later reads the files then.
    public static func reloadConfiguration(timeoutSeconds: Int = 10) throws(IOError) {
        guard access("/run/udev/control", F_OK) == 0 else { return }
        let candidates: [String] = ["/usr/bin/udevadm", "/bin/udevadm", "/usr/sbin/udevadm", "/sbin/udevadm"]
        guard let udevadm = candidates.first(where: { access($0, X_OK) == 0 }) else {
            throw .udev(operation: "reload udevd (udevadm not found)", code: ENOENT)
        }
        let arguments = [udevadm, "control", "--reload", "--timeout=\(timeoutSeconds)"]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, udevadm, nil, nil, &argv, environ)
        guard spawned == 0 else { throw .udev(operation: "run udevadm control --reload", code: spawned) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw .udev(operation: "wait for udevadm control --reload", code: errno) }
        }
        // WIFEXITED/WEXITSTATUS are macros Swift does not import.
        let exitCode = (status >> 8) & 0xff, signal = status & 0x7f
        guard signal == 0, exitCode == 0 else {
            throw .udev(operation: "udevadm control --reload exited with \(signal == 0 ? exitCode : 128 + signal)", code: 0)
        }
    }

    /// Re-sends an `add` uevent for one link (`udevadm trigger --action=add`), so a new or
    /// changed `.link` file applies now and not at the next boot.
    public static func triggerAdd(linkName: String) throws(IOError) {
        var device: OpaquePointer?
        var result = sd_device_new_from_ifname(&device, linkName)
        guard result >= 0 else { throw .udev(operation: "find \(linkName)", code: -result) }
        defer { sd_device_unref(device) }
        result = sd_device_trigger(device, SD_DEVICE_ADD)
        guard result >= 0 else { throw .udev(operation: "trigger add on \(linkName)", code: -result) }
    }
}
