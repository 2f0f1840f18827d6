import EC2NetCore
import EC2NetIO

/// Where `apply` takes the instance's metadata from.
public enum MetadataSource {
    /// A document given by the operator (`--metadata FILE`): an image build or a test.
    /// It never becomes the boot cache. `bytes`, when given, are the file's bytes: equal
    /// to the applied record's, they spare serializing the document again.
    case document(MetadataDocument, source: String, bytes: [UInt8]? = nil)
    /// The cache of the last live read (`--cached`); never touches the network.
    case cache
    /// IMDS; `attached` is the MAC of a link that just appeared (`--wait-for`), whose ENI
    /// alone is read whole.
    case imds(MetadataReader, attached: MACAddress?)
}

/// Parses a document IMDS served: one that does not parse is the service's failure
/// (exit 1), not bad input.
func parseServed(_ document: MetadataDocument, by reader: MetadataReader) throws(ApplyError) -> Instance {
    do {
        return try parse(document)
    } catch {
        throw .unusableMetadata(endpoint: reader.endpointDescription, error: error)
    }
}
