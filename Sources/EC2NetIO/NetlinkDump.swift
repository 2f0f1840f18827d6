import CNetlink
import EC2NetCore
import Glibc

/// The parse of an rtnetlink dump: pure functions over the bytes the kernel sent, so they
/// are tested on captured dumps (Tests/EC2NetIOTests/Fixtures) without a
/// socket. Netlink.swift only sends the request and collects the bytes.
public enum NetlinkDump {
    /// One message of a dump: its type, its family header (rtmsg or fib_rule_hdr, which
    /// share their layout's first 12 bytes, or the 8-byte ifaddrmsg) and its attributes.
    public struct Message {
        public var type: UInt16
        public var header: [UInt8]
        public var attributes: [(type: UInt16, value: ArraySlice<UInt8>)]
    }

    static let messageHeaderSize = MemoryLayout<nlmsghdr>.size
    public static let familyHeaderSize = MemoryLayout<rtmsg>.size
    public static let addressHeaderSize = MemoryLayout<ifaddrmsg>.size
    public static let nexthopHeaderSize = MemoryLayout<nhmsg>.size

    /// The messages in one buffer the kernel sent, and whether it ended the dump
    /// (`NLMSG_DONE`). A netlink error message becomes the error it reports.
    public static func messages(in bytes: [UInt8], familyHeaderSize: Int = familyHeaderSize) throws(IOError)
        -> (messages: [Message], done: Bool) {
        var messages: [Message] = []
        var offset = 0
        while offset + messageHeaderSize <= bytes.count {
            let length = Int(u32(bytes[offset..<offset + 4]))
            let type = u16(bytes[offset + 4..<offset + 6])
            guard length >= messageHeaderSize, offset + length <= bytes.count else { throw .netlink(operation: "parse", code: EBADMSG) }
            let body = offset + messageHeaderSize
            switch Int32(type) {
            case NLMSG_DONE:
                return (messages, true)
            case NLMSG_ERROR:
                let code = Int32(bitPattern: u32(bytes[body..<min(body + 4, offset + length)]))
                if code != 0 { throw .netlink(operation: "dump", code: -code) }
            default:
                guard length >= messageHeaderSize + familyHeaderSize else { break }
                // An Array, not a slice: readers index the header from 0.
                let header = Array(bytes[body..<body + familyHeaderSize])
                var attributes: [(type: UInt16, value: ArraySlice<UInt8>)] = []
                var position = body + familyHeaderSize
                while position + 4 <= offset + length {
                    let attributeLength = Int(u16(bytes[position..<position + 2]))
                    let attributeType = u16(bytes[position + 2..<position + 4]) & ec2netgen_nla_type_mask
                    guard attributeLength >= 4, position + attributeLength <= offset + length else { break }
                    attributes.append((attributeType, bytes[(position + 4)..<(position + attributeLength)]))
                    position += (attributeLength + 3) & ~3
                }
                messages.append(Message(type: type, header: header, attributes: attributes))
            }
            offset += (length + 3) & ~3
        }
        return (messages, false)
    }

    /// A `RTM_NEWRULE` message as the plan's rule type (table nil = main); nil for another
    /// family or message.
    public static func rule(_ message: Message) -> RoutingPolicyRule? {
        guard Int(message.type) == Int(RTM_NEWRULE), let family = family(message.header[0]) else { return nil }
        // fib_rule_hdr: family, dst_len, src_len, tos, table, …
        var rule = RoutingPolicyRule(from: nil, family: family, table: Int(message.header[4]), priority: 0, suppressPrefixLength: nil)
        let sourceLength = Int(message.header[2])
        for (type, value) in message.attributes {
            switch Int(type) {
            case Int(FRA_SRC): rule.from = prefix(value, length: sourceLength)
            case Int(FRA_PRIORITY): rule.priority = Int(u32(value))
            case Int(FRA_TABLE): rule.table = Int(u32(value))
            case Int(FRA_SUPPRESS_PREFIXLEN):
                let length = u32(value)
                if length != UInt32.max { rule.suppressPrefixLength = Int(length) }
            default: break
            }
        }
        if rule.table == Int(RT_TABLE_MAIN.rawValue) { rule.table = nil }
        return rule
    }

    /// A `RTM_NEWROUTE` message; nil for another family or message.
    public static func route(_ message: Message) -> Netlink.Route? {
        guard Int(message.type) == Int(RTM_NEWROUTE), let family = family(message.header[0]) else { return nil }
        // rtmsg: family, dst_len, src_len, tos, table, protocol, …
        var route = Netlink.Route(family: family, table: Int(message.header[4]), destination: nil, origin: Int(message.header[5]))
        let destinationLength = Int(message.header[1])
        for (type, value) in message.attributes {
            switch type {
            case UInt16(RTA_DST.rawValue): route.destination = prefix(value, length: destinationLength)
            case UInt16(RTA_GATEWAY.rawValue): route.gateway = address(value)
            case UInt16(RTA_OIF.rawValue): route.outputInterface = Int(u32(value))
            case UInt16(RTA_TABLE.rawValue): route.table = Int(u32(value))
            case UInt16(RTA_NH_ID.rawValue): route.nexthopID = Int(u32(value))
            default: break
            }
        }
        return route
    }

    /// A `RTM_NEWNEXTHOP` message (read with `nexthopHeaderSize`); nil for another message
    /// or one without an id.
    public static func nexthop(_ message: Message) -> Netlink.Nexthop? {
        guard Int(message.type) == Int(RTM_NEWNEXTHOP) else { return nil }
        var id: Int?, gateway: IPAddress?, outputInterface: Int?
        for (type, value) in message.attributes {
            switch type {
            case UInt16(NHA_ID): id = Int(u32(value))
            case UInt16(NHA_GATEWAY): gateway = address(value)
            case UInt16(NHA_OIF): outputInterface = Int(u32(value))
            default: break
            }
        }
        guard let id else { return nil }
        return Netlink.Nexthop(id: id, gateway: gateway, outputInterface: outputInterface)
    }

    /// A `RTM_NEWADDR` message (read with `addressHeaderSize`); nil for another family or
    /// message.
    public static func address(_ message: Message) -> Netlink.Address? {
        guard Int(message.type) == Int(RTM_NEWADDR), family(message.header[0]) != nil else { return nil }
        // ifaddrmsg: family, prefixlen, flags (the low 8 bits), scope, index (u32)
        var flags = UInt32(message.header[2])
        var local: IPAddress?, peer: IPAddress?
        for (type, value) in message.attributes {
            switch type {
            case UInt16(IFA_LOCAL): local = address(value)
            case UInt16(IFA_ADDRESS): peer = address(value)
            case UInt16(IFA_FLAGS): flags = u32(value)
            default: break
            }
        }
        // IFA_LOCAL is the link's own address where it differs from IFA_ADDRESS (a peer);
        // IPv6 sends only IFA_ADDRESS.
        guard let own = local ?? peer else { return nil }
        return Netlink.Address(address: own, prefixLength: Int(message.header[1]),
                               interfaceIndex: Int(u32(message.header[4..<8])), flags: flags)
    }

    private static func family(_ byte: UInt8) -> IPFamily? {
        switch Int32(byte) {
        case AF_INET: return .ipv4
        case AF_INET6: return .ipv6
        default: return nil
        }
    }

    /// Netlink integers are in the host's order (little-endian on every EC2 architecture).
    static func u32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        guard bytes.count >= 4 else { return 0 }
        let base = bytes.startIndex
        return UInt32(bytes[base]) | UInt32(bytes[base + 1]) << 8 | UInt32(bytes[base + 2]) << 16 | UInt32(bytes[base + 3]) << 24
    }

    static func u16(_ bytes: ArraySlice<UInt8>) -> UInt16 {
        guard bytes.count >= 2 else { return 0 }
        return UInt16(bytes[bytes.startIndex]) | UInt16(bytes[bytes.startIndex + 1]) << 8
    }

    /// Addresses are in network order.
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
}
