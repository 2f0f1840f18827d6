import EC2NetCore
import Glibc

/// Reads the kernel's routing rules and routes over rtnetlink (RTM_GETRULE / RTM_GETROUTE
/// dumps), so `status` compares the plan with what the kernel really has, not with what
/// networkd believes it configured. Read-only; one socket per dump.
public enum Netlink {
    /// A route as the kernel reports it.
    public struct Route: Equatable, Sendable {
        /// Address family.
        public var family: IPFamily
        /// Table id (254 is main).
        public var table: Int
        /// Destination; nil for a default route.
        public var destination: IPPrefix?
        /// Next hop, when there is one.
        public var gateway: IPAddress?
        /// Output ifindex.
        public var outputInterface: Int?

        public init(family: IPFamily, table: Int, destination: IPPrefix?, gateway: IPAddress? = nil, outputInterface: Int? = nil) {
            self.family = family
            self.table = table
            self.destination = destination
            self.gateway = gateway
            self.outputInterface = outputInterface
        }
    }

    /// The kernel's id of the main table.
    public static let mainTable = 254

    static let rtmGetRoute: UInt16 = 26
    static let rtmGetRule: UInt16 = 34

    /// Every rule of both families, as the plan's type (table nil = main).
    public static func rules() throws(IOError) -> [RoutingPolicyRule] {
        var rules: [RoutingPolicyRule] = []
        try dump(type: rtmGetRule) { header, attributes in
            guard let family = family(header[0]) else { return }
            var rule = RoutingPolicyRule(from: nil, family: family, table: Int(header[4]), priority: 0, suppressPrefixLength: nil)
            let sourceLength = Int(header[2])
            for (type, value) in attributes {
                switch type {
                case 2: rule.from = prefix(value, length: sourceLength)            // FRA_SRC
                case 6: rule.priority = Int(u32(value))                            // FRA_PRIORITY
                case 15: rule.table = Int(u32(value))                              // FRA_TABLE
                case 14:                                                           // FRA_SUPPRESS_PREFIXLEN
                    let length = u32(value)
                    if length != UInt32.max { rule.suppressPrefixLength = Int(length) }
                default: break
                }
            }
            if rule.table == mainTable { rule.table = nil }
            rules.append(rule)
        }
        return rules
    }

    /// Every route of both families, all tables.
    public static func routes() throws(IOError) -> [Route] {
        var routes: [Route] = []
        try dump(type: rtmGetRoute) { header, attributes in
            guard let family = family(header[0]) else { return }
            var route = Route(family: family, table: Int(header[4]), destination: nil, gateway: nil, outputInterface: nil)
            let destinationLength = Int(header[1])
            for (type, value) in attributes {
                switch type {
                case 1: route.destination = prefix(value, length: destinationLength)                                         // RTA_DST
                case 5: route.gateway = address(value)                                                                       // RTA_GATEWAY
                case 4: route.outputInterface = Int(u32(value))                                                              // RTA_OIF
                case 15: route.table = Int(u32(value))                                                                       // RTA_TABLE
                default: break
                }
            }
            routes.append(route)
        }
        return routes
    }

    private static func family(_ byte: UInt8) -> IPFamily? {
        switch Int32(byte) {
        case AF_INET: return .ipv4
        case AF_INET6: return .ipv6
        default: return nil
        }
    }

    private static func u32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        guard bytes.count >= 4 else { return 0 }
        let base = bytes.startIndex
        return UInt32(bytes[base]) | UInt32(bytes[base + 1]) << 8 | UInt32(bytes[base + 2]) << 16 | UInt32(bytes[base + 3]) << 24
    }

    private static func address(_ bytes: ArraySlice<UInt8>) -> IPAddress? {
        let raw = Array(bytes)
        if raw.count == 4 {
            return .v4(IPv4Address(UInt32(raw[0]) << 24 | UInt32(raw[1]) << 16 | UInt32(raw[2]) << 8 | UInt32(raw[3])))
        }
        if raw.count == 16 {
            return .v6(IPv6Address(groups: (0..<8).map { UInt16(raw[2 * $0]) << 8 | UInt16(raw[2 * $0 + 1]) }))
        }
        return nil
    }

    private static func prefix(_ bytes: ArraySlice<UInt8>, length: Int) -> IPPrefix? {
        address(bytes).flatMap { IPPrefix(address: $0, length: length) }
    }

    /// Sends one dump request and hands each answer's family header (12 bytes) and
    /// attributes to `handle`.
    private static func dump(type: UInt16, _ handle: ([UInt8], [(UInt16, ArraySlice<UInt8>)]) -> Void) throws(IOError) {
        let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0 /* NETLINK_ROUTE */)
        guard fd >= 0 else { throw .netlink(operation: "socket", code: errno) }
        defer { close(fd) }
        // nlmsghdr (16) + rtmsg/fib_rule_hdr (12), family AF_UNSPEC: both families.
        var request = [UInt8](repeating: 0, count: 28)
        func put32(_ value: UInt32, at offset: Int) { for i in 0..<4 { request[offset + i] = UInt8(value >> (8 * UInt32(i)) & 0xff) } }
        put32(28, at: 0)
        request[4] = UInt8(type & 0xff); request[5] = UInt8(type >> 8)
        let flags: UInt16 = 0x1 | 0x300  // NLM_F_REQUEST | NLM_F_DUMP
        request[6] = UInt8(flags & 0xff); request[7] = UInt8(flags >> 8)
        put32(1, at: 8)  // sequence
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == 28 else {
            throw .netlink(operation: "send", code: errno)
        }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw .netlink(operation: "recv", code: count < 0 ? errno : EIO) }
            var offset = 0
            while offset + 16 <= count {
                let length = Int(u32(buffer[offset..<offset + 4]))
                let messageType = UInt16(buffer[offset + 4]) | UInt16(buffer[offset + 5]) << 8
                guard length >= 16, offset + length <= count else { throw .netlink(operation: "parse", code: EBADMSG) }
                if messageType == 3 { return }  // NLMSG_DONE
                if messageType == 2 {           // NLMSG_ERROR
                    let code = Int32(bitPattern: u32(buffer[(offset + 16)..<(offset + 20)]))
                    if code != 0 { throw .netlink(operation: "dump", code: -code) }
                } else if length >= 28 {
                    // An Array, not a slice: handlers index the header from 0.
                    let header = Array(buffer[(offset + 16)..<(offset + 28)])
                    var attributes: [(UInt16, ArraySlice<UInt8>)] = []
                    var position = offset + 28
                    while position + 4 <= offset + length {
                        let attributeLength = Int(UInt16(buffer[position]) | UInt16(buffer[position + 1]) << 8)
                        let attributeType = (UInt16(buffer[position + 2]) | UInt16(buffer[position + 3]) << 8) & 0x3fff
                        guard attributeLength >= 4, position + attributeLength <= offset + length else { break }
                        attributes.append((attributeType, buffer[(position + 4)..<(position + attributeLength)]))
                        position += (attributeLength + 3) & ~3
                    }
                    handle(header, attributes)
                }
                offset += (length + 3) & ~3
            }
        }
    }
}
