import EC2NetCore
import EC2NetHTTP
@testable import EC2NetIO
import EC2NetTestSupport
import Foundation
import Testing

/// Reading IMDS through systemd's IMDS service (Varlink): the same document as the own
/// client, what happens when the service cannot serve, and the pieces under it. The real
/// systemd-imdsd runs in the scenario suite (IMDS-first-apply) and in BENCHMARKS.md.
struct SystemdIMDSClientTests {
    private func clients(_ stub: StubIMDS, _ service: StubIMDSService) throws -> (IMDSClient, SystemdIMDSClient) {
        let configuration = IMDSConfiguration(endpoint: try #require(HTTPEndpoint(url: stub.endpoint)))
        return (IMDSClient(configuration: configuration), SystemdIMDSClient(socket: service.socketPath, configuration: configuration))
    }

    @Test("through the service, a document read gives exactly the own client's document, one Get per key")
    func sameDocument() throws {
        let stub = try StubIMDS(document: try ThreeENIs.document())
        let service = try StubIMDSService(imds: stub)
        let (own, systemd) = try clients(stub, service)
        let expected = try own.fetchDocument()
        let document = try systemd.fetchDocument(previous: nil, only: nil, sourceLinks: [:])
        #expect(document == expected)
        let gets = service.calls.filter { $0["method"] == .string("io.systemd.InstanceMetadata.Get") }
        #expect(gets.count == own.requestCount - 1, "one Get per GET of the own client (which also PUT a token)")
        #expect(gets.allSatisfy { $0["cache"] == .bool(false) }, "a read must see what changed: the service's cache is off")
        #expect(gets.allSatisfy { $0["key"]?.string?.hasPrefix("/meta-data/") == true }, "\(gets)")
        // A refresh from that document reads what the own client's refresh reads.
        let ownRefresh = try own.fetchDocument(previous: expected)
        let before = service.calls.count
        #expect(try systemd.fetchDocument(previous: document, only: nil, sourceLinks: [:]) == ownRefresh)
        #expect(service.calls.count - before - 1 == own.requestCount - 1 - gets.count, "one Get per GET of the own client's refresh")
    }

    @Test("an absent optional key is KeyNotFound and reads as absent; a required one names the service and the key")
    func keyNotFound() throws {
        let stub = try StubIMDS(document: try ThreeENIs.document())
        let service = try StubIMDSService(imds: stub)
        let (_, systemd) = try clients(stub, service)
        let channel = systemd.makeChannel()
        #expect(try systemd.get("meta-data/no-such-key", on: channel, via: nil, allowMissing: true) == nil)
        #expect(throws: IOError.systemdIMDS(socket: service.socketPath, key: "/latest/meta-data/no-such-key", reason: "KeyNotFound")) {
            try systemd.get("meta-data/no-such-key", on: channel, via: nil, allowMissing: false)
        }
    }

    @Test("a link the service cannot read through is read unscoped, then never scoped again in the run")
    func scopedFailureFallsBackUnscoped() throws {
        let stub = try StubIMDS(document: try ThreeENIs.document())
        let service = try StubIMDSService(imds: stub)
        service.scopedFails = true
        let (_, systemd) = try clients(stub, service)
        let channel = systemd.makeChannel()
        // lo has an IPv4 address, so the first call is scoped to it.
        #expect(try systemd.get("meta-data/instance-id", on: channel, via: "lo", allowMissing: false) != nil)
        #expect(try systemd.get("meta-data/mac", on: channel, via: "lo", allowMissing: false) != nil)
        let scoped = service.calls.map { $0["interface"] != nil }
        #expect(scoped == [true, false, false], "\(service.calls)")
    }

    @Test("a service that serves another cloud, or none, is left for the own client, and the cost line says why")
    func fallback() throws {
        let stub = try StubIMDS(document: try ThreeENIs.document())
        let service = try StubIMDSService(imds: stub)
        service.vendor = "microsoft-azure"
        let (own, systemd) = try clients(stub, service)
        let reader = FallbackReader(preferred: systemd, fallback: own)
        let document = try reader.fetchDocument(previous: nil, only: nil, sourceLinks: [:])
        #expect(document == (try IMDSClient(configuration: own.configuration).fetchDocument()))
        #expect(reader.fallbackReason?.contains("serves \"microsoft-azure\", not amazon-ec2") == true, "\(reader.fallbackReason ?? "")")
        #expect(reader.costSummary(milliseconds: 5).hasSuffix("systemd-imdsd at \(service.socketPath) failed first: \(reader.fallbackReason ?? "")"))
        #expect(reader.endpointDescription == own.endpointDescription)

        let gone = SystemdIMDSClient(socket: service.socketPath + ".absent", configuration: own.configuration)
        let second = FallbackReader(preferred: gone, fallback: own)
        #expect(try second.missingPart(of: try #require(MACAddress("02:00:00:00:00:01"))) == nil)
        #expect(second.fallbackReason?.contains("connect: No such file or directory") == true, "\(second.fallbackReason ?? "")")
    }

    @Test("Base64 as the service sends it", arguments: [
        ("", [UInt8]?.some([])), ("Zg==", Array("f".utf8)), ("Zm8=", Array("fo".utf8)), ("Zm9v", Array("foo".utf8)),
        ("MDI6MDA6MDA6MDA6MDA6MDEv", Array("02:00:00:00:00:01/".utf8)),
        ("Zm9", nil), ("Z===", nil), ("Zm=v", nil), ("Zm9v\n", nil), ("Zg==Zg==", nil),
    ])
    func base64(text: String, bytes: [UInt8]?) {
        #expect(Base64.decode(text) == bytes, "\(text)")
    }

    @Test("which reader: the service only when asked for, listening, and no endpoint chosen")
    func readPath() {
        for requested in [false, true] {
            for chosen in [String?.none, "--imds-endpoint"] {
                for listening in [false, true] {
                    let expected: IMDSReadPath = requested && chosen == nil && listening ? .systemdService : .ownClient
                    #expect(IMDSReadPath.decide(requested: requested, endpointChosenBy: chosen, serviceListening: listening) == expected)
                }
            }
        }
    }
}
