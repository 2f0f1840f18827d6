import EC2NetCore
import EC2NetFS

/// The boot path's second input (`apply --cached --boot --from-cloud-init`, run after
/// cloud-init's local stage and before networkd): what cloud-init's EC2 datasource read
/// from IMDS at this boot. At an instance's first boot the cache is absent or another
/// instance's (the image's), so the boot service wrote no file for this instance's ENIs
/// and networkd would bring every one up with the catch-all's DHCP; on a cloud image the
/// per-link units read IMDS only after cloud-init's network stage, and until then a
/// secondary ENI's DHCP address answers through the primary's subnet route. Planning
/// from cloud-init's read instead gives every ENI its own file before networkd starts.
///
/// Returns cloud-init's metadata only when it describes another instance than the cache
/// (or there is no cache): on every later boot of the instance the cache, ec2-netgen's
/// own last read, stays the input. A file that cannot be read or used leaves the cache in
/// charge, with a warning naming it.
func cloudInitMetadata(root: String, cached: ReadMetadata?) -> (metadata: ReadMetadata?, warning: String?) {
    let file = CloudInitInstanceData(root: root)
    let bytes: [UInt8]
    do {
        guard let loaded = try file.load() else { return (nil, nil) }
        bytes = loaded
    } catch {
        return (nil, "ignoring cloud-init's instance data: \(error)")
    }
    do {
        let document = try MetadataDocument(cloudInitInstanceData: bytes, source: file.path)
        let instance = try parse(document)
        if let cached, cached.instance.instanceID == instance.instanceID { return (nil, nil) }
        return (ReadMetadata(document: document, instance: instance, fromIMDS: false), nil)
    } catch {
        return (nil, "ignoring cloud-init's instance data: \(error)")
    }
}
