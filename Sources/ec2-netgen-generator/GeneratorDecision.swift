/// Whether ec2-netgen runs this boot: the generator's one decision, pure, from the kernel
/// command line and DMI as read.
enum GeneratorDecision: Equatable {
    /// Mask every ec2-netgen unit for this boot.
    case mask(reason: String)
    /// Wire the boot service and the refresh timer in.
    case enable

    /// DMI's identification of the machine (`/sys/class/dmi/id/*`); nil where absent.
    struct DMI {
        var sysVendor: String?
        var biosVersion: String?
        var productUUID: String?
    }

    /// `ec2-netgen=off` masks; `ec2-netgen=on` enables on any machine; otherwise EC2 (by
    /// DMI) enables and anything else masks. Returns warnings about the command line too.
    static func decide(commandLine: String?, dmi: DMI) -> (GeneratorDecision, warnings: [String]) {
        let (setting, warnings) = kernelSwitch(commandLine)
        if setting == "off" { return (.mask(reason: "ec2-netgen=off on the kernel command line"), warnings) }
        if setting != "on", let vendor = nonEC2Vendor(dmi) { return (.mask(reason: "not an EC2 instance (DMI: \(vendor))"), warnings) }
        return (.enable, warnings)
    }

    /// `ec2-netgen=` from the kernel command line: "off", "on", or nil. The last one wins,
    /// as for systemd's own switches; an unknown value is a warning.
    static func kernelSwitch(_ commandLine: String?) -> (String?, warnings: [String]) {
        guard let commandLine else { return (nil, []) }
        var setting: String?
        var warnings: [String] = []
        let prefix = Array("ec2-netgen=".utf8)
        for bytes in commandLine.utf8.split(whereSeparator: { $0 == 0x20 || $0 == 0x0A || $0 == 0x09 }) where bytes.starts(with: prefix) {
            switch String(decoding: bytes.dropFirst(prefix.count), as: UTF8.self).lowercased() {
            case "0", "off", "no", "false": setting = "off"
            case "1", "on", "yes", "true": setting = "on"
            default: warnings.append("ignoring unknown \(String(decoding: bytes, as: UTF8.self)) on the kernel command line")
            }
        }
        return (setting, warnings)
    }

    /// nil on EC2; otherwise what DMI says instead. Nitro reports sys_vendor "Amazon EC2";
    /// Xen instances report a bios_version ending in ".amazon" and a product_uuid
    /// starting with "ec2". Missing DMI (containers) counts as not EC2.
    static func nonEC2Vendor(_ dmi: DMI) -> String? {
        let vendor = dmi.sysVendor ?? ""
        if vendor == "Amazon EC2" { return nil }
        if (dmi.biosVersion ?? "").lowercased().hasSuffix(".amazon") { return nil }
        if (dmi.productUUID ?? "").lowercased().hasPrefix("ec2") { return nil }
        return vendor.isEmpty ? "no DMI vendor" : vendor
    }
}
