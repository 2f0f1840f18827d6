import EC2NetCore
import EC2NetFS
import EC2NetIO

/// The links present now: from sd-device on the real root when udev has a database (it
/// carries `ID_NET_MANAGED_BY`), else from sysfs under `root` (images, tests, containers).
public func presentLinks(root: String) throws -> [Link] {
    if SystemEffects.isRunningSystem(root: root) && UdevDevices.databaseAvailable { return try UdevDevices.links() }
    return try SysfsLinkReader.links(root: root)
}
