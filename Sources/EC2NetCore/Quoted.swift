/// A value shown in a message: escaped so newlines and control characters in hostile
/// input cannot forge log lines, and cut so an oversized value cannot flood the journal.
/// The one quoting rule for every layer: input files, IMDS answers, configuration.
public func quoted(_ value: String) -> String {
    var escaped = ""
    for scalar in value.unicodeScalars.prefix(80) {
        switch scalar {
        case "\n": escaped += "\\n"
        case "\r": escaped += "\\r"
        case "\t": escaped += "\\t"
        case "\"": escaped += "\\\""
        case "\\": escaped += "\\\\"
        case _ where scalar.value < 0x20 || scalar.value == 0x7f:
            escaped += "\\x" + String(decoding: [hexDigit(UInt8(scalar.value) >> 4), hexDigit(UInt8(scalar.value) & 0x0f)], as: UTF8.self)
        default: escaped.unicodeScalars.append(scalar)
        }
    }
    if value.unicodeScalars.count > 80 { escaped += "…" }
    return "\"" + escaped + "\""
}
