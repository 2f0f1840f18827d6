extension JSONValue {
    /// Pretty JSON text with sorted keys and a final newline: the cache and `fetch`
    /// output must be byte-identical for identical metadata, whatever the hash seed.
    public func serialized() -> String {
        var output = ""
        write(to: &output, indent: 0)
        output.append("\n")
        return output
    }

    private func write(to output: inout String, indent: Int) {
        let pad = String(repeating: "  ", count: indent + 1)
        let closing = String(repeating: "  ", count: indent)
        switch self {
        case .object(let members):
            guard !members.isEmpty else { output.append("{}"); return }
            output.append("{\n")
            let keys = members.keys.sorted()
            for (index, key) in keys.enumerated() {
                output.append(pad)
                Self.writeString(key, to: &output)
                output.append(": ")
                members[key]?.write(to: &output, indent: indent + 1)
                output.append(index == keys.count - 1 ? "\n" : ",\n")
            }
            output.append(closing + "}")
        case .array(let elements):
            guard !elements.isEmpty else { output.append("[]"); return }
            output.append("[\n")
            for (index, element) in elements.enumerated() {
                output.append(pad)
                element.write(to: &output, indent: indent + 1)
                output.append(index == elements.count - 1 ? "\n" : ",\n")
            }
            output.append(closing + "]")
        case .string(let text): Self.writeString(text, to: &output)
        case .number(let text): output.append(text)
        case .bool(let flag): output.append(flag ? "true" : "false")
        case .null: output.append("null")
        }
    }

    private static func writeString(_ text: String, to output: inout String) {
        output.append("\"")
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output.append("\\\"")
            case "\\": output.append("\\\\")
            case "\n": output.append("\\n")
            case "\r": output.append("\\r")
            case "\t": output.append("\\t")
            case _ where scalar.value < 0x20 || scalar.value == 0x7f:
                let hex = String(scalar.value, radix: 16)
                output.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
            default: output.unicodeScalars.append(scalar)
            }
        }
        output.append("\"")
    }
}
