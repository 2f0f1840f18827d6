import Glibc

/// Whether the kernel would route a packet to an IPv4 address: `connect` on a UDP socket
/// does the route lookup and sends nothing (so no IP filter of a unit sees it).
public enum RouteProbe {
    public static func hasRoute(toIPv4 address: (UInt8, UInt8, UInt8, UInt8), port: UInt16 = 80) -> Bool {
        let socketFD = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        // No socket at all (a sandbox without AF_INET) says nothing about routes: keep IPv4.
        guard socketFD >= 0 else { return true }
        defer { close(socketFD) }
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_port = port.bigEndian
        target.sin_addr.s_addr = (UInt32(address.0) << 24 | UInt32(address.1) << 16 | UInt32(address.2) << 8 | UInt32(address.3)).bigEndian
        let result = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return result == 0 || (errno != ENETUNREACH && errno != EHOSTUNREACH)
    }
}
