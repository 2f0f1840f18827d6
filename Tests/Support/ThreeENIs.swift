import EC2NetCore
import EC2NetOps
import Foundation

/// The bundled example `examples/three-enis` (three ENIs, IPv4 and IPv6, a prefix), which
/// most command and operation tests run on.
public enum ThreeENIs {
    public static let directory = TestSupport.repository.appendingPathComponent("examples/three-enis")
    public static let metadata = directory.appendingPathComponent("metadata.json").path
    public static let links = directory.appendingPathComponent("links.json").path

    /// The metadata document's bytes.
    public static func document() throws -> Data { try Data(contentsOf: URL(fileURLWithPath: metadata)) }

    /// The links, parsed.
    public static func linkList() throws -> [Link] {
        try Link.parseList(Array(try Data(contentsOf: URL(fileURLWithPath: links))), source: links)
    }

    /// An apply of the example's document under `root`.
    public static func applyRequest(root: URL) throws -> ApplyRequest {
        let document = try MetadataDocument(bytes: Array(try self.document()), source: "metadata.json")
        return ApplyRequest(source: .document(document, source: "metadata.json"), root: root.path, links: try linkList(),
                            options: PlanOptions())
    }

    /// A root already configured from the stub IMDS serving the example (files and cache),
    /// as on a running instance.
    public static func configuredRoot(stub: StubIMDS) throws -> URL {
        let root = try TestSupport.temporaryDirectory()
        let run = try TestSupport.run(["apply", "--imds-endpoint", stub.endpoint, "--links", links, "--root", root.path, "--no-reload"])
        guard run.status == 0 else { throw TestFailure("apply from the stub failed: \(run.stderr)") }
        return root
    }
}
