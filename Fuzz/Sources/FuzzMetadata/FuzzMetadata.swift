// libFuzzer entry point: any bytes as a metadata document, then the whole pure core.
// Must never trap; every rejection is a typed error.
import EC2NetCore
import FuzzDriver

/// One input; must return 0 and never trap.
func fuzzMetadata(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard let document = try? MetadataDocument(bytes: bytes, source: "fuzz"),
          let instance = try? parse(document) else { return 0 }
    var options = PlanOptions()
    options.includeAbsentLinks = true
    if let plan = try? plan(instance, links: [], options: options) {
        for artifact in render(plan) {
            // A rendered file never carries a line break inside a value: every line is
            // a comment, a section header, a Key=Value, or empty.
            for line in artifact.contents.split(separator: "\n", omittingEmptySubsequences: false) {
                precondition(line.isEmpty || line.hasPrefix("#") || line.hasPrefix("[") || line.contains("="), "bad line: \(line)")
            }
        }
        _ = plan.json().serialized()
    }
    return 0
}

/// SwiftPM links `main` to `FuzzMetadata_main`; hand control to libFuzzer's driver from there.
@_cdecl("FuzzMetadata_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzzMetadata(data, size) }
}
