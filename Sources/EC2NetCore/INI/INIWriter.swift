/// Writes a systemd-style INI file as bytes: `#` comment lines at the top, then `[Name]`
/// sections of `Key=Value` lines, one blank line between sections, LF endings. Every
/// rendered file goes through it, so layout and the one-line rule live in one place.
///
/// Values are written straight into the file's buffer, addresses and numbers included:
/// a String per value and a model per section would cost most of a 16-ENI render, and
/// growing a Swift array per append most of the rest (docs/decisions.md).
/// Not copyable: it owns its buffer, so it is passed `inout` and freed once.
public struct INIWriter: ~Copyable {
    private var storage: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var count = 0

    /// Starts an empty file with room for about `capacity` bytes (it grows as needed).
    public init(capacity: Int = 512) {
        self.capacity = max(capacity, 64)
        storage = .allocate(capacity: self.capacity)
    }

    deinit { storage.deallocate() }

    /// The file so far.
    public var bytes: [UInt8] { Array(UnsafeBufferPointer(start: storage, count: count)) }

    /// One `# text` line; comments come before the first section.
    public mutating func comment(_ text: String) {
        assert(!text.contains("\n"), "a comment must be one line")
        put("# ")
        put(text)
        put(0x0A)
    }

    /// Starts `[name]`, after a blank line unless it is the first thing in the file.
    public mutating func section(_ name: StaticString) {
        if count > 0 { put(0x0A) }
        put(UInt8(ascii: "["))
        put(name)
        put("]\n")
    }

    /// `key=value` from text. Values come from typed plan values; a line break would let
    /// one key inject another, so it is caught in debug builds.
    public mutating func entry(_ key: StaticString, _ value: String) {
        assert(!value.contains("\n"), "an INI value must be one line")
        startEntry(key)
        put(value)
        put(0x0A)
    }

    /// `key=value` for a literal value.
    public mutating func entry(_ key: StaticString, literal value: StaticString) {
        startEntry(key)
        put(value)
        put(0x0A)
    }

    /// `key=N` for a non-negative number.
    public mutating func entry(_ key: StaticString, _ value: Int) {
        assert(value >= 0, "INI numbers here are never negative")
        startEntry(key)
        // Digits written from the right into their place; tables and priorities have five.
        var digits = 1, bound = 10
        while value >= bound && digits < 19 { bound &*= 10; digits &+= 1 }
        reserve(digits + 1)
        var position = count &+ digits, rest = value
        while true {
            position &-= 1
            storage[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
            rest /= 10
            if rest == 0 { break }
        }
        count &+= digits
        storage[count] = 0x0A
        count &+= 1
    }

    /// `key=ADDRESS/LENGTH`.
    public mutating func entry(_ key: StaticString, _ value: IPPrefix) {
        startEntry(key)
        reserve(44)
        count = value.write(into: UnsafeMutableBufferPointer(start: storage, count: capacity), at: count)
        storage[count] = 0x0A
        count += 1
    }

    /// `key=aa:bb:cc:dd:ee:ff`.
    public mutating func entry(_ key: StaticString, _ value: MACAddress) {
        startEntry(key)
        reserve(18)
        count = value.write(into: UnsafeMutableBufferPointer(start: storage, count: capacity), at: count, separator: UInt8(ascii: ":"))
        storage[count] = 0x0A
        count += 1
    }

    @inline(__always)
    private mutating func startEntry(_ key: StaticString) {
        put(key)
        put(UInt8(ascii: "="))
    }

    /// Room for `extra` more bytes.
    @inline(__always)
    private mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(to: count + extra) }
    }

    private mutating func grow(to needed: Int) {
        let larger = max(needed, capacity * 2)
        let moved = UnsafeMutablePointer<UInt8>.allocate(capacity: larger)
        moved.initialize(from: storage, count: count)
        storage.deallocate()
        storage = moved
        capacity = larger
    }

    @inline(__always)
    private mutating func put(_ byte: UInt8) {
        reserve(1)
        storage[count] = byte
        count += 1
    }

    @inline(__always)
    private mutating func put(_ text: StaticString) {
        // Keys and literals are string literals, which always have a pointer form.
        put(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    private mutating func put(_ text: String) {
        // Native and literal strings are contiguous; anything else is copied once.
        if text.utf8.withContiguousStorageIfAvailable({ put($0) }) == nil {
            Array(text.utf8).withUnsafeBufferPointer { put($0) }
        }
    }

    @inline(__always)
    private mutating func put(_ buffer: UnsafeBufferPointer<UInt8>) {
        guard let base = buffer.baseAddress, !buffer.isEmpty else { return }
        reserve(buffer.count)
        (storage + count).initialize(from: base, count: buffer.count)
        count += buffer.count
    }
}
