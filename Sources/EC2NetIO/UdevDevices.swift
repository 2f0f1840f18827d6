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
                    managedBy: property(device, "ID_NET_MANAGED_BY"))
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
