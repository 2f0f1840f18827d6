import EC2NetCore
import EC2NetFS
import EC2NetOps
import EC2NetTestSupport
import Foundation
import Testing

/// The boot path after cloud-init's local stage (`apply --cached --boot
/// --from-cloud-init`): which metadata it plans from, and what it leaves.
@Suite(.serialized)
struct CloudInitMetadataTests {
    /// The example's `meta-data` with another instance id and `edit` applied to its MAC
    /// directories.
    static func exampleMetaData(instanceID: String, edit: (inout [String: Any]) -> Void) throws -> [String: Any] {
        let document = try JSONSerialization.jsonObject(with: try ThreeENIs.document()) as! [String: Any]
        var metaData = document["meta-data"] as! [String: Any]
        metaData["instance-id"] = instanceID
        var network = metaData["network"] as! [String: Any]
        var interfaces = network["interfaces"] as! [String: Any]
        var macs = interfaces["macs"] as! [String: Any]
        edit(&macs)
        interfaces["macs"] = macs
        network["interfaces"] = interfaces
        metaData["network"] = network
        return metaData
    }

    /// The example's metadata as cloud-init keeps it in its instance data: under
    /// `ds/meta-data`, beside keys of its own, a multi-line value as a list of lines.
    static func instanceData(instanceID: String = "i-0123456789abcdef0") throws -> Data {
        let metaData = try exampleMetaData(instanceID: instanceID) { macs in
            var primary = macs["02:00:00:00:00:01"] as! [String: Any]
            primary["local-ipv4s"] = (primary["local-ipv4s"] as! String).split(separator: "\n").map(String.init)
            macs["02:00:00:00:00:01"] = primary
        }
        let document: [String: Any] = ["base64_encoded_keys": [String](), "v1": ["cloud_name": "aws", "instance_id": instanceID],
                                       "ds": ["_doc": "EXPERIMENTAL", "_metadata_api_version": "2021-03-23", "meta-data": metaData]]
        return try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])
    }

    /// The example's document with another instance id and without its third ENI.
    static func cache(instanceID: String) throws -> MetadataDocument {
        let metaData = try exampleMetaData(instanceID: instanceID) { macs in macs["02:00:00:00:00:03"] = nil }
        return try MetadataDocument(bytes: Array(try JSONSerialization.data(withJSONObject: ["meta-data": metaData])), source: "cache")
    }

    static func bootRequest(root: URL) throws -> ApplyRequest {
        var request = try ThreeENIs.applyRequest(root: root)
        request.source = .cache
        request.includeAbsentLinks = true
        request.fromCloudInit = true
        return request
    }

    static func writeInstanceData(_ data: Data, root: URL) throws {
        let file = URL(fileURLWithPath: CloudInitInstanceData(root: root.path).path)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: file)
    }

    @Test("cloud-init's instance data reads as the document under ds/meta-data, a list of lines as the value's lines")
    func conversion() throws {
        let fromCloudInit = try MetadataDocument(cloudInitInstanceData: Array(try Self.instanceData()), source: "instance-data.json")
        let example = try MetadataDocument(bytes: Array(try ThreeENIs.document()), source: "metadata.json")
        #expect(try parse(fromCloudInit) == parse(example))
        #expect(fromCloudInit.root.keys.sorted() == ["meta-data"], "only the metadata is taken from cloud-init's file")
        #expect(throws: InputError.missingKey(path: "x.json: ds/meta-data")) {
            try MetadataDocument(cloudInitInstanceData: Array(#"{"ds": {"_doc": "x"}, "v1": {}}"#.utf8), source: "x.json")
        }
        #expect(throws: InputError.notADirectory(path: "x.json: ds/meta-data")) {
            try MetadataDocument(cloudInitInstanceData: Array(#"{"ds": {"meta-data": "none"}}"#.utf8), source: "x.json")
        }
    }

    @Test("a new instance's first boot plans from cloud-init's read: with no cache, and over another instance's cache, whose ENI goes")
    func newInstance() throws {
        for cached in [nil, "i-0aaaaaaaaaaaaaaaa"] as [String?] {
            let root = try TestSupport.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: root) }
            if let cached {
                var offline = try ThreeENIs.applyRequest(root: root)
                offline.source = .document(try Self.cache(instanceID: cached), source: "cache")
                _ = try apply(offline, effects: .none)
                try MetadataCache(root: root.path).save(try Self.cache(instanceID: cached))
                // The image's instance had an ENI this one does not: its file must go.
                let gone = Artifact(name: Artifact.networkFileName(for: MACAddress("02:00:00:00:00:09")!),
                                    contents: Artifact.headerLine + "\n[Match]\nName=ens9\n")
                _ = try ManagedDirectory(root: root.path).update([gone])
            }
            try Self.writeInstanceData(try Self.instanceData(), root: root)
            let networkd = RecordingNetworkd()
            let report = try apply(try Self.bootRequest(root: root), effects: SystemEffects(networkd: networkd))
            #expect(report.plan.instanceID == "i-0123456789abcdef0" && report.plan.interfaces.count == 3)
            #expect(report.warnings.isEmpty)
            let files = try ManagedDirectory(root: root.path).managedFiles()
            #expect(files.contains(Artifact.networkFileName(for: MACAddress("02:00:00:00:00:03")!)))
            #expect(!files.contains(Artifact.networkFileName(for: MACAddress("02:00:00:00:00:09")!)))
            // The cache stays ec2-netgen's own last IMDS read.
            let cache = try MetadataCache(root: root.path).load()
            #expect(cache.map { try? MetadataDocument(bytes: $0, source: "cache") } == cached.map { try? Self.cache(instanceID: $0) })
        }
    }

    @Test("a later boot of the same instance plans from the cache; no file, no warning")
    func sameInstance() throws {
        let root = try TestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        try MetadataCache(root: root.path).save(try Self.cache(instanceID: "i-0123456789abcdef0"))
        try Self.writeInstanceData(try Self.instanceData(), root: root)
        let report = try apply(try Self.bootRequest(root: root), effects: .none)
        #expect(report.plan.interfaces.count == 2 && report.warnings.isEmpty)
        var absent = try Self.bootRequest(root: root)
        try FileManager.default.removeItem(atPath: CloudInitInstanceData(root: root.path).path)
        absent.options = PlanOptions()
        let without = try apply(absent, effects: .none)
        #expect(without.plan.interfaces.count == 2 && without.warnings.isEmpty && !without.sync.changed)
    }

    @Test("instance data that cannot be used is named in a warning, and the cache (or the first-boot path) plans")
    func unusable() throws {
        for cached in [false, true] {
            for bad in [Data("{not json".utf8), Data(#"{"ds": {}}"#.utf8)] {
                let root = try TestSupport.temporaryDirectory()
                defer { try? FileManager.default.removeItem(at: root) }
                if cached { try MetadataCache(root: root.path).save(try Self.cache(instanceID: "i-0aaaaaaaaaaaaaaaa")) }
                try Self.writeInstanceData(bad, root: root)
                let report = try apply(try Self.bootRequest(root: root), effects: .none)
                #expect(report.plan.interfaces.count == (cached ? 2 : 0))
                #expect(report.warnings.count == 1)
                #expect(report.warnings.first?.hasPrefix("ignoring cloud-init's instance data: ") == true)
                #expect(report.warnings.first?.contains(CloudInitInstanceData(root: root.path).path) == true, "the warning names the file")
            }
        }
    }
}
