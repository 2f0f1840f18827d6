import EC2NetCore
import EC2NetFS
import Foundation
import Testing
import EC2NetTestSupport

/// Golden directories: `Tests/Golden/NN-name/input/` (metadata.json, links.json, optional
/// ec2-netgen.conf, options and ipv6-routers) against `expected/` (the exact file set and bytes) and
/// `plan.json`, or against `expected-error` (the exact message) for input EC2 could not
/// have served. `NN-recorded-*` cases hold metadata recorded from real instances, as
/// published, with `SOURCE.md` saying where it comes from. `UPDATE_GOLDEN=1` rewrites the
/// expectations and fails, so every change to output is reviewed in the diff.
struct GoldenTests {
    static let cases: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: TestSupport.goldenDirectory.path)) ?? []
        return names.filter { $0.first?.isNumber == true }.sorted()
    }()

    /// A case without its inputs or expectations would pass the output test vacuously.
    @Test("every golden case has its inputs, an expected file set and a plan")
    func casesAreWhole() throws {
        #expect(!Self.cases.isEmpty)
        for name in Self.cases {
            let base = TestSupport.goldenDirectory.appendingPathComponent(name)
            if name.contains("-recorded-") {
                #expect(FileManager.default.fileExists(atPath: base.appendingPathComponent("SOURCE.md").path), "\(name) lacks SOURCE.md")
            }
            if FileManager.default.fileExists(atPath: base.appendingPathComponent("expected-error").path) { continue }
            for file in ["input/metadata.json", "input/links.json", "plan.json"] {
                #expect(FileManager.default.fileExists(atPath: base.appendingPathComponent(file).path), "\(name) lacks \(file)")
            }
            let expected = (try? FileManager.default.contentsOfDirectory(atPath: base.appendingPathComponent("expected").path)) ?? []
            #expect(expected.contains { $0.hasSuffix(".network") }, "\(name)/expected holds no .network")
        }
    }

    @Test("golden output", arguments: cases)
    func golden(_ name: String) throws {
        let base = TestSupport.goldenDirectory.appendingPathComponent(name)
        let input = base.appendingPathComponent("input")
        let document = try MetadataDocument(bytes: Array(try Data(contentsOf: input.appendingPathComponent("metadata.json"))),
                                            source: "metadata.json")
        let links = try Link.parseList(Array(try Data(contentsOf: input.appendingPathComponent("links.json"))),
                                       source: "links.json")
        var options = PlanOptions()
        let configURL = input.appendingPathComponent("ec2-netgen.conf")
        if let config = try? String(contentsOf: configURL, encoding: .utf8) {
            try options.apply(configText: config, file: "ec2-netgen.conf")
        }
        let flags = (try? String(contentsOf: input.appendingPathComponent("options"), encoding: .utf8)) ?? ""
        options.includeAbsentLinks = flags.contains("boot")
        for mode in IMDSNetworking.allCases where flags.contains("systemd-imds=\(mode)") { options.imdsNetworking = mode }
        if let routers = try? String(contentsOf: input.appendingPathComponent("ipv6-routers"), encoding: .utf8) {
            options.ipv6Routers = LearnedRouters.parse(routers)
        }

        let errorURL = base.appendingPathComponent("expected-error")
        if let expectedError = try? String(contentsOf: errorURL, encoding: .utf8) {
            do {
                _ = try EC2NetCore.plan(parse(document), links: links, options: options)
                Issue.record("\(name): planned, but expected-error says it must fail")
            } catch {
                if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
                    try "\(error)\n".write(to: errorURL, atomically: true, encoding: .utf8)
                    Issue.record("UPDATE_GOLDEN=1: rewrote \(name)/expected-error; review the diff and run again without it")
                    return
                }
                #expect("\(error)\n" == expectedError, "\(name): the error changed")
            }
            return
        }
        let plan = try EC2NetCore.plan(parse(document), links: links, options: options)
        var actual: [String: String] = [:]
        for artifact in render(plan) { actual[artifact.name] = artifact.contents }
        let planJSON = plan.json().serialized()

        let expectedDirectory = base.appendingPathComponent("expected")
        let planURL = base.appendingPathComponent("plan.json")
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try? FileManager.default.removeItem(at: expectedDirectory)
            try FileManager.default.createDirectory(at: expectedDirectory, withIntermediateDirectories: true)
            for (file, contents) in actual {
                try contents.write(to: expectedDirectory.appendingPathComponent(file), atomically: true, encoding: .utf8)
            }
            try planJSON.write(to: planURL, atomically: true, encoding: .utf8)
            Issue.record("UPDATE_GOLDEN=1: rewrote \(name); review the diff and run again without it")
            return
        }
        let expectedNames = ((try? FileManager.default.contentsOfDirectory(atPath: expectedDirectory.path)) ?? []).sorted()
        #expect(actual.keys.sorted() == expectedNames, "\(name): file set differs")
        for file in expectedNames {
            let expected = try String(contentsOf: expectedDirectory.appendingPathComponent(file), encoding: .utf8)
            if let diff = firstDifference(expected: expected, actual: actual[file] ?? "") {
                Issue.record("\(name)/\(file): \(diff)")
            }
        }
        let expectedPlan = (try? String(contentsOf: planURL, encoding: .utf8)) ?? ""
        if let diff = firstDifference(expected: expectedPlan, actual: planJSON) {
            Issue.record("\(name)/plan.json: \(diff)")
        }
    }
}

/// The first differing line with context, or nil when equal: a readable diff for golden
/// mismatches.
func firstDifference(expected: String, actual: String) -> String? {
    guard expected != actual else { return nil }
    let expectedLines = expected.split(separator: "\n", omittingEmptySubsequences: false)
    let actualLines = actual.split(separator: "\n", omittingEmptySubsequences: false)
    for index in 0..<max(expectedLines.count, actualLines.count) {
        let lhs = index < expectedLines.count ? String(expectedLines[index]) : "<end of file>"
        let rhs = index < actualLines.count ? String(actualLines[index]) : "<end of file>"
        if lhs != rhs {
            return "line \(index + 1):\n  expected: \(lhs)\n  actual:   \(rhs)"
        }
    }
    return "differs in line endings"
}
