import EC2NetCore
import CNetlink
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
        /// The nexthop object carrying gateway and link instead (networkd 257 installs
        /// router-advertised gateways this way).
        public var nexthopID: Int?
        /// Who installed it (rtm_protocol): `RTPROT_RA` for a route from router advertisements.
        public var origin: Int = 0

        public init(family: IPFamily, table: Int, destination: IPPrefix?, gateway: IPAddress? = nil, outputInterface: Int? = nil,
                    nexthopID: Int? = nil, origin: Int = 0) {
            self.origin = origin
            self.family = family
            self.table = table
            self.destination = destination
            self.gateway = gateway
            self.outputInterface = outputInterface
            self.nexthopID = nexthopID
        }
    }

    /// A nexthop object (`ip nexthop`): the gateway and link routes refer to by id.
    public struct Nexthop: Equatable, Sendable {
        public var id: Int
        public var gateway: IPAddress?
        public var outputInterface: Int?

        public init(id: Int, gateway: IPAddress? = nil, outputInterface: Int? = nil) {
            self.id = id
            self.gateway = gateway
            self.outputInterface = outputInterface
        }
    }

    /// An address as the kernel reports it.
    public struct Address: Equatable, Sendable {
        public var address: IPAddress
        public var prefixLength: Int
        /// The link's ifindex.
        public var interfaceIndex: Int
        /// IFA_F_* flags.
        public var flags: UInt32

        public init(address: IPAddress, prefixLength: Int, interfaceIndex: Int, flags: UInt32 = 0) {
            self.address = address
            self.prefixLength = prefixLength
            self.interfaceIndex = interfaceIndex
            self.flags = flags
        }

        /// Duplicate address detection is still running (IFA_F_TENTATIVE).
        public var isTentative: Bool { flags & UInt32(IFA_F_TENTATIVE) != 0 }
    }

    /// rtm_protocol of routes learned from router advertisements.
    public static let routerAdvertisementOrigin = 9

    /// The kernel's id of the main table.
    public static let mainTable = 254

    /// Every rule of both families, as the plan's type (table nil = main).
    public static func rules() throws(IOError) -> [RoutingPolicyRule] {
        try dump(type: UInt16(RTM_GETRULE)).compactMap(NetlinkDump.rule)
    }

    /// Every route of both families, all tables.
    public static func routes() throws(IOError) -> [Route] {
        try dump(type: UInt16(RTM_GETROUTE)).compactMap(NetlinkDump.route)
    }

    /// Every nexthop object of both families.
    public static func nexthops() throws(IOError) -> [Nexthop] {
        try dump(type: UInt16(RTM_GETNEXTHOP), headerSize: NetlinkDump.nexthopHeaderSize,
                 requestHeaderSize: NetlinkDump.nexthopHeaderSize).compactMap(NetlinkDump.nexthop)
    }

    /// Every address of both families, all links.
    public static func addresses() throws(IOError) -> [Address] {
        try dump(type: UInt16(RTM_GETADDR), headerSize: NetlinkDump.addressHeaderSize).compactMap(NetlinkDump.address)
    }

    /// Sends one dump request (family AF_UNSPEC: both families) and returns every message
    /// of the answer; the parse is NetlinkDump's. The request carries a family header of
    /// `requestHeaderSize` zeros (no filter: rtmsg-sized, except the nexthop dump, whose
    /// kernel side refuses bytes after its nhmsg); `headerSize` is that of the answer's messages.
    private static func dump(type: UInt16, headerSize: Int = NetlinkDump.familyHeaderSize,
                             requestHeaderSize: Int = NetlinkDump.familyHeaderSize) throws(IOError) -> [NetlinkDump.Message] {
        let fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), NETLINK_ROUTE)
        guard fd >= 0 else { throw .netlink(operation: "socket", code: errno) }
        defer { close(fd) }
        let size = NetlinkDump.messageHeaderSize + requestHeaderSize
        var request = [UInt8](repeating: 0, count: size)
        func put(_ value: UInt32, bytes: Int, at offset: Int) {
            for index in 0..<bytes { request[offset + index] = UInt8(value >> (8 * UInt32(index)) & 0xff) }
        }
        put(UInt32(size), bytes: 4, at: 0)                                          // nlmsg_len
        put(UInt32(type), bytes: 2, at: 4)                                          // nlmsg_type
        put(UInt32(NLM_F_REQUEST) | UInt32(ec2netgen_nlm_f_dump), bytes: 2, at: 6)  // nlmsg_flags
        put(1, bytes: 4, at: 8)                                                     // nlmsg_seq
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == size else {
            throw .netlink(operation: "send", code: errno)
        }
        var messages: [NetlinkDump.Message] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw .netlink(operation: "recv", code: count < 0 ? errno : EIO) }
            let (batch, done) = try NetlinkDump.messages(in: Array(buffer[0..<count]), familyHeaderSize: headerSize)
            messages += batch
            if done { return messages }
        }
    }
}
