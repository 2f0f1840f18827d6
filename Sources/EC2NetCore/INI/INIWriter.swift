/// Writes a systemd-style INI file as bytes: `#` comment lines at the top, then `[Name]`
/// sections of `Key=Value` lines, one blank line between sections, LF endings. Every
/// rendered file goes through it, so layout and the one-line rule live in one place.
///
/// Values are appended straight into the file's buffer, addresses and numbers included:
/// building a String per value and a model per section cost most of a 16-ENI render
/// (bench/run, "Where the time goes").
public struct INIWriter: Sendable {
    /// The file so far.
    public private(set) var bytes: [UInt8] = []

    /// Starts an empty file with room for about `capacity` bytes.
    public init(capacity: Int = 512) { bytes.reserveCapacity(capacity) }

    /// One `# text` line; comments come before the first section.
    public mutating func comment(_ text: String) {
        assert(!text.contains("\n"), "a comment must be one line")
        append("# ")
        bytes.append(contentsOf: text.utf8)
        bytes.append(0x0A)
    }

    /// Starts `[name]`, after a blank line unless it is the first thing in the file.
    public mutating func section(_ name: StaticString) {
        if !bytes.isEmpty { bytes.append(0x0A) }
        bytes.append(UInt8(ascii: "["))
        append(name)
        append("]\n")
    }

    /// `key=value` from text. Values come from typed plan values; a line break would let
    /// one key inject another, so it is caught in debug builds.
    public mutating func entry(_ key: StaticString, _ value: String) {
        assert(!value.contains("\n"), "an INI value must be one line")
        startEntry(key)
        bytes.append(contentsOf: value.utf8)
        bytes.append(0x0A)
    }

    /// `key=value` for a literal value.
    public mutating func entry(_ key: StaticString, literal value: StaticString) {
        startEntry(key)
        append(value)
        bytes.append(0x0A)
    }

    /// `key=N` for a non-negative number.
    public mutating func entry(_ key: StaticString, _ value: Int) {
        assert(value >= 0, "INI numbers here are never negative")
        startEntry(key)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
            var position = 20, rest = value
            repeat {
                position -= 1
                buffer[position] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            } while rest > 0
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[position...]))
        }
        bytes.append(0x0A)
    }

    /// `key=ADDRESS/LENGTH`.
    public mutating func entry(_ key: StaticString, _ value: IPPrefix) {
        startEntry(key)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 43) { buffer in
            let end = value.write(into: buffer, at: 0)
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<end]))
        }
        bytes.append(0x0A)
    }

    /// `key=aa:bb:cc:dd:ee:ff`.
    public mutating func entry(_ key: StaticString, _ value: MACAddress) {
        startEntry(key)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 17) { buffer in
            let end = value.write(into: buffer, at: 0, separator: UInt8(ascii: ":"))
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<end]))
        }
        bytes.append(0x0A)
    }

    private mutating func startEntry(_ key: StaticString) {
        append(key)
        bytes.append(UInt8(ascii: "="))
    }

    private mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }
}
