extension JSONValue {
    /// Pretty JSON text with sorted keys and a final newline: the cache and `fetch`
    /// output must be byte-identical for identical metadata, whatever the hash seed.
    public func serialized() -> String {
        String(decoding: serializedBytes(), as: UTF8.self)
    }

    /// The same text as UTF-8 bytes. Written byte by byte: growing a String one Unicode
    /// scalar at a time would be a large part of a cold apply, which serializes the whole
    /// document for the cache and the applied record.
    public func serializedBytes() -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(4096)
        write(to: &output, indent: 0)
        output.append(0x0A)
        return output
    }

    private func write(to output: inout [UInt8], indent: Int) {
        switch self {
        case .object(let members):
            guard !members.isEmpty else { output.append(contentsOf: "{}".utf8); return }
            output.append(contentsOf: "{\n".utf8)
            let keys = members.keys.sorted()
            for (index, key) in keys.enumerated() {
                Self.pad(&output, indent + 1)
                Self.writeString(key, to: &output)
                output.append(contentsOf: ": ".utf8)
                members[key]?.write(to: &output, indent: indent + 1)
                if index != keys.count - 1 { output.append(UInt8(ascii: ",")) }
                output.append(0x0A)
            }
            Self.pad(&output, indent)
            output.append(UInt8(ascii: "}"))
        case .array(let elements):
            guard !elements.isEmpty else { output.append(contentsOf: "[]".utf8); return }
            output.append(contentsOf: "[\n".utf8)
            for (index, element) in elements.enumerated() {
                Self.pad(&output, indent + 1)
                element.write(to: &output, indent: indent + 1)
                if index != elements.count - 1 { output.append(UInt8(ascii: ",")) }
                output.append(0x0A)
            }
            Self.pad(&output, indent)
            output.append(UInt8(ascii: "]"))
        case .string(let text): Self.writeString(text, to: &output)
        case .number(let text): output.append(contentsOf: text.utf8)
        case .bool(let flag): output.append(contentsOf: (flag ? "true" : "false").utf8)
        case .null: output.append(contentsOf: "null".utf8)
        }
    }

    private static func pad(_ output: inout [UInt8], _ level: Int) {
        for _ in 0..<(2 * level) { output.append(0x20) }
    }

    /// Escapes `"`, `\`, and the control characters (DEL included) of a string; every other
    /// byte, multi-byte UTF-8 included, is copied as it is.
    private static func writeString(_ text: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { bytes in
            // Runs of bytes that need no escape are copied whole (the lists' newlines are
            // the only escapes in most metadata strings).
            var runStart = 0
            for (index, byte) in bytes.enumerated() {
                let escape: StaticString
                switch byte {
                case UInt8(ascii: "\""): escape = "\\\""
                case UInt8(ascii: "\\"): escape = "\\\\"
                case 0x0A: escape = "\\n"
                case 0x0D: escape = "\\r"
                case 0x09: escape = "\\t"
                case _ where byte < 0x20 || byte == 0x7f: escape = "\\u00"
                default: continue
                }
                output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                escape.withUTF8Buffer { output.append(contentsOf: $0) }
                if escape.utf8CodeUnitCount == 4 {
                    output.append(hexDigit(byte >> 4))
                    output.append(hexDigit(byte & 0x0f))
                }
                runStart = index + 1
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        }
        output.append(UInt8(ascii: "\""))
    }
}
