import CSystemd
import Glibc

/// Talks to systemd-networkd over the system bus (sd-bus). sd-bus is not thread-safe, so
/// an instance is used from one thread only; it owns its bus connection.
public final class NetworkdControl {
    private var bus: OpaquePointer?

    /// Connects to the system bus (`DBUS_SYSTEM_BUS_ADDRESS` is honoured, which lets tests
    /// use a private bus).
    public init() throws(IOError) {
        var handle: OpaquePointer?
        let result = sd_bus_open_system(&handle)
        guard result >= 0, let handle else { throw .bus(operation: "connect to the system bus", name: nil, code: -result, message: nil) }
        bus = handle
    }

    deinit { sd_bus_flush_close_unref(bus) }

    /// `org.freedesktop.network1.Manager.Reload`: networkd re-reads its files and
    /// reconfigures only links whose files changed.
    public func reload() throws(IOError) {
        try call("Reload") { _ in 0 }
    }

    /// `ReconfigureLink(ifindex)`: networkd applies the link's `.network` again, even
    /// though it did not change.
    public func reconfigureLink(index: Int32) throws(IOError) {
        try call("ReconfigureLink", append: { message in ec2netgen_bus_append_int32(message, index) })
    }

    /// `DescribeLink(ifindex)`: networkd's JSON description of a link, which names the
    /// `.network` file it applied (`NetworkFile`).
    public func describeLink(index: Int32) throws(IOError) -> String {
        var text = ""
        try call("DescribeLink", append: { message in ec2netgen_bus_append_int32(message, index) }) { reply in
            var value: UnsafeMutableRawPointer?
            guard sd_bus_message_read_basic(reply, CChar(UInt8(ascii: "s")), &value) >= 0, let value else { return }
            text = String(cString: value.assumingMemoryBound(to: CChar.self))
        }
        return text
    }

    private func call(_ method: String, append: (OpaquePointer?) -> Int32, read: (OpaquePointer?) -> Void = { _ in }) throws(IOError) {
        var message: OpaquePointer?
        var result = sd_bus_message_new_method_call(bus, &message, "org.freedesktop.network1", "/org/freedesktop/network1",
                                                    "org.freedesktop.network1.Manager", method)
        defer { sd_bus_message_unref(message) }
        guard result >= 0 else { throw .bus(operation: method, name: nil, code: -result, message: nil) }
        result = append(message)
        guard result >= 0 else { throw .bus(operation: method, name: nil, code: -result, message: nil) }
        var error = sd_bus_error()
        defer { sd_bus_error_free(&error) }
        var reply: OpaquePointer?
        result = sd_bus_call(bus, message, 25_000_000, &error, &reply)
        defer { sd_bus_message_unref(reply) }
        guard result >= 0 else {
            throw .bus(operation: method, name: error.name.map { String(cString: $0) }, code: -result,
                       message: error.message.map { String(cString: $0) })
        }
        read(reply)
    }
}
