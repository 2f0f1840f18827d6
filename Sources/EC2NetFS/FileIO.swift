import Glibc

/// Plain POSIX file access without Foundation (docs/design.md: Foundation costs
/// start-up time the boot path cannot spare).
public enum FileIO {
    /// Reads a whole file, refusing more than `limit` bytes so a corrupt or hostile file
    /// cannot exhaust memory.
    public static func read(_ path: String, limit: Int = 16 << 20) throws(FSError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FSError(operation: "open", path: path, code: errno) }
        defer { close(fd) }
        var result: [UInt8] = []
        // A regular file is read straight into an array sized from fstat (one byte more,
        // to see EOF): no zeroed bounce buffer, which cost more than the reads themselves
        // on a no-change apply comparing 33 files. /proc and /sys report size 0, and a
        // file that grew meanwhile has its rest read by the loop below.
        var info = stat()
        if fstat(fd, &info) == 0, info.st_size > 0 {
            let size = Int(info.st_size)
            guard size <= limit else { throw FSError(operation: "read", path: path, code: EFBIG) }
            var failure: Int32 = 0, atEnd = false
            result = [UInt8](unsafeUninitializedCapacity: size + 1) { buffer, count in
                count = 0
                while count < buffer.count {
                    let got = Glibc.read(fd, buffer.baseAddress.map { $0 + count }, buffer.count - count)
                    if got < 0 {
                        if errno == EINTR { continue }
                        failure = errno
                        return
                    }
                    if got == 0 { atEnd = true; return }
                    count += got
                }
            }
            if failure != 0 { throw FSError(operation: "read", path: path, code: failure) }
            if atEnd { return result }
        }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw FSError(operation: "read", path: path, code: errno)
            }
            if count == 0 { return result }
            result.append(contentsOf: buffer[0..<count])
            if result.count > limit { throw FSError(operation: "read", path: path, code: EFBIG) }
        }
    }

    /// True when both hold the same bytes; memcmp, since Array's `==` compares element by
    /// element and a no-change apply compares every file it manages.
    public static func sameBytes(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return lhs.withUnsafeBytes { a in rhs.withUnsafeBytes { b in
            guard let x = a.baseAddress, let y = b.baseAddress else { return true }
            return memcmp(x, y, a.count) == 0
        } }
    }

    /// Reads a file as text, or nil when it does not exist.
    public static func readTextIfPresent(_ path: String) throws(FSError) -> String? {
        do {
            return String(decoding: try read(path), as: UTF8.self)
        } catch where error.code == ENOENT {
            return nil
        }
    }

    /// Replaces `path` atomically: temp file in the same directory, write, fsync, chmod,
    /// rename over the target, fsync the directory. A crash leaves the old file or the new
    /// one, never a mix; the temp name starts with `.` and ends in `.tmp`, which networkd
    /// never reads.
    public static func writeAtomically(_ path: String, contents: [UInt8], mode: UInt16, syncDirectory: Bool = true) throws(FSError) {
        let directory = parent(of: path)
        let temp = directory + "/." + basename(of: path) + ".\(getpid()).tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode_t(mode))
        guard fd >= 0 else { throw FSError(operation: "create", path: temp, code: errno) }
        var closed = false
        defer { if !closed { close(fd); unlink(temp) } }
        var written = 0
        while written < contents.count {
            let count = contents.withUnsafeBytes { raw in write(fd, raw.baseAddress.map { $0 + written }, raw.count - written) }
            if count < 0 {
                if errno == EINTR { continue }
                throw FSError(operation: "write", path: temp, code: errno)
            }
            written += count
        }
        // fchmod because the umask may have narrowed the mode given to open().
        guard fchmod(fd, mode_t(mode)) == 0 else { throw FSError(operation: "chmod", path: temp, code: errno) }
        guard fsync(fd) == 0 else { throw FSError(operation: "fsync", path: temp, code: errno) }
        closed = true
        guard close(fd) == 0 else { unlink(temp); throw FSError(operation: "close", path: temp, code: errno) }
        guard rename(temp, path) == 0 else {
            let code = errno
            unlink(temp)
            throw FSError(operation: "rename", path: path, code: code)
        }
        if syncDirectory { try Self.syncDirectory(directory) }
    }

    /// Removes a file and makes the removal durable.
    public static func remove(_ path: String, syncDirectory: Bool = true) throws(FSError) {
        guard unlink(path) == 0 || errno == ENOENT else { throw FSError(operation: "remove", path: path, code: errno) }
        if syncDirectory { try Self.syncDirectory(parent(of: path)) }
    }

    /// fsyncs a directory so renames and unlinks in it survive a crash.
    public static func syncDirectory(_ path: String) throws(FSError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FSError(operation: "open", path: path, code: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw FSError(operation: "fsync", path: path, code: errno) }
    }

    /// Creates a directory and its parents with mode 0755. Directories it creates get
    /// 0755 whatever the umask: networkd reads them as systemd-network, not root.
    public static func makeDirectories(_ path: String) throws(FSError) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, 0o755) == 0 {
                chmod(current, 0o755)
            } else if errno != EEXIST {
                throw FSError(operation: "mkdir", path: current, code: errno)
            }
        }
    }

    /// Names in a directory (not `.`/`..`), sorted; empty when it does not exist.
    public static func list(_ path: String) throws(FSError) -> [String] {
        guard let dir = opendir(path) else {
            if errno == ENOENT { return [] }
            throw FSError(operation: "opendir", path: path, code: errno)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// The target of a symbolic link, or nil.
    public static func readLink(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The directory part of a path.
    public static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The last component of a path.
    public static func basename(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}
