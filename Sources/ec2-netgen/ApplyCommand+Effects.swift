import EC2NetCore
import EC2NetFS
import EC2NetIO
import Glibc

/// What `apply` does after the files are synced: tell networkd, udev and the journal.
extension ApplyCommand {
    /// One `Reload` over D-Bus. networkd not running (early boot, or stopped) is not an
    /// error: it reads the files when it starts.
    func reloadNetworkd() throws {
        do {
            try NetworkdControl().reload()
            print("reloaded  systemd-networkd")
        } catch where error.networkdAbsent {
            print("networkd is not running; it will read the files when it starts")
        } catch {
            throw Failure.runtime("files were written, but \(error)")
        }
    }

    /// Re-fires udev `add` for links whose `.link` file is new or changed, so alternative
    /// names apply now. Best effort: a failure costs only the altnames until next boot.
    func retriggerLinks(_ report: SyncReport, plan: Plan) {
        let changed = Set(report.created + report.updated)
        for interface in plan.interfaces where changed.contains(Artifact.linkName(for: interface.mac)) {
            guard let name = interface.linkName else { continue }
            do {
                try UdevDevices.triggerAdd(linkName: name)
            } catch {
                printError("warning: \(error) (alternative names apply at next boot)")
            }
        }
    }

    /// Journal entries per ENI whose files changed, keyed for `journalctl EC2_ENI_ID=…`.
    func journal(_ report: SyncReport, plan: Plan) {
        guard Journal.isConnected else { return }
        let written = Set(report.created + report.updated)
        for interface in plan.interfaces where written.contains(Artifact.networkName(for: interface.mac)) {
            var fields = ["EC2_MAC": interface.mac.description, "EC2_TABLE": "\(interface.table)"]
            if let id = interface.interfaceID { fields["EC2_ENI_ID"] = id }
            if let name = interface.linkName { fields["INTERFACE"] = name }
            Journal.send(.eniConfigured, message: "ENI \(interface.interfaceID ?? interface.mac.description) configured: table \(interface.table)",
                         fields: fields)
        }
        for name in report.removed where name.hasSuffix(".network") {
            Journal.send(.eniRemoved, message: "removed \(name)", fields: ["EC2_FILE": name])
        }
    }
}
