// libFuzzer entry point: any bytes as an HTTP response, parsed at and before EOF.
import EC2NetHTTP
import FuzzDriver

/// One input; must return 0 and never trap.
func fuzzHTTP(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    for atEOF in [false, true] {
        if let (response, used) = try? HTTPResponseParser.parse(bytes, bodyLimit: 4096, atEOF: atEOF) {
            precondition(used <= bytes.count && response.body.count <= 4096)
        }
    }
    return 0
}

/// SwiftPM links `main` to `FuzzHTTP_main`; hand control to libFuzzer's driver from there.
@_cdecl("FuzzHTTP_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzzHTTP(data, size) }
}
