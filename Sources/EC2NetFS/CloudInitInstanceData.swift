import EC2NetCore
import Glibc

/// cloud-init's instance data of this boot: what its local stage read from IMDS, written
/// before networkd starts (`/run/cloud-init/instance-data.json`, root's, world-readable;
/// cloud-init keeps secrets in the `-sensitive` file beside it).
public struct CloudInitInstanceData: Sendable {
    /// Path of the file.
    public let path: String

    /// The file under a root: `ROOT/run/cloud-init/instance-data.json`.
    public init(root: String) { self.path = root.trimmingSlash + "/run/cloud-init/instance-data.json" }

    /// The file's bytes, or nil when cloud-init wrote none at this boot.
    public func load() throws(FSError) -> [UInt8]? {
        do {
            return try FileIO.read(path)
        } catch where error.code == ENOENT {
            return nil
        }
    }
}
