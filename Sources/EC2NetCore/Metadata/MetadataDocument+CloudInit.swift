extension MetadataDocument {
    /// The metadata cloud-init's EC2 datasource read at this boot, from its instance data
    /// (`/run/cloud-init/instance-data.json`): the `meta-data` tree it keeps under `ds` has
    /// this document's shape, a multi-line value as a list of lines (which `body` reads as
    /// the lines joined). Only that tree is taken; the rest of the file is cloud-init's.
    /// `source` names the file in errors.
    public init(cloudInitInstanceData bytes: some Collection<UInt8>, source: String) throws(InputError) {
        let whole = try MetadataDocument(bytes: bytes, source: source)
        switch try whole.node(["ds", MetadataPath.metaData]) {
        case .object(let metaData)?:
            self.init(root: [MetadataPath.metaData: .object(metaData)])
        case nil:
            throw .missingKey(path: "\(source): ds/\(MetadataPath.metaData)")
        case .some:
            throw .notADirectory(path: "\(source): ds/\(MetadataPath.metaData)")
        }
    }
}
