import EC2NetCore
import EC2NetIO

/// `plan`'s operation: the plan `apply` would make from `source`, with nothing written,
/// no cache read or saved, and no lock taken. IMDS is read whole (a preview must not
/// depend on what the cache says).
public func preview(source: MetadataSource, links: [Link], options: PlanOptions) throws -> Plan {
    let instance: Instance
    switch source {
    case .document(let document, _):
        instance = try parse(document)
    case .cache:
        throw ApplyError.previewNeedsDocument
    case .imds(let client, _):
        let document = try client.fetchDocument(sourceLinks: sourceLinks(links))
        do {
            instance = try parse(document)
        } catch {
            // Metadata IMDS served that does not parse is the service's failure (exit 1).
            throw ApplyError.unusableMetadata(endpoint: client.configuration.endpoint.description, error: error)
        }
    }
    return try plan(instance, links: links, options: options)
}

extension Plan {
    /// The files as `plan` prints them: a `==> NAME <==` line, then the contents.
    public func filesText() -> String {
        render(self).map { "==> \($0.name) <==\n" + $0.contents }.joined(separator: "\n")
    }
}
