import Glibc

/// The kernel's addresses per link (getifaddrs), for choosing whether a request can leave
/// through a given ENI.
enum InterfaceAddresses {
    /// True when `link` has an address of `family` (AF_INET or AF_INET6) other than an
    /// IPv6 link-local one, which cannot reach IMDS.
    static func has(link: String, family: Int32) -> Bool {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return false }
        defer { freeifaddrs(list) }
        var cursor = list
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let address = entry.pointee.ifa_addr, Int32(address.pointee.sa_family) == family,
                  String(cString: entry.pointee.ifa_name) == link else { continue }
            if family == AF_INET6 {
                let linkLocal = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    $0.pointee.sin6_addr.__in6_u.__u6_addr8.0 == 0xfe && ($0.pointee.sin6_addr.__in6_u.__u6_addr8.1 & 0xc0) == 0x80
                }
                if linkLocal { continue }
            }
            return true
        }
        return false
    }
}
