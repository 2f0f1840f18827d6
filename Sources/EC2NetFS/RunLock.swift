import Glibc

/// Serialises `apply` runs (`ROOT/run/ec2-netgen/lock`): a second run waits, then usually
/// finds nothing to change. flock, so the kernel releases it when a run dies.
public final class RunLock {
    private let fd: Int32

    /// Blocks until the lock is held; `whileWaiting` is told the lock's path first when
    /// another run holds it.
    public init(root: String, whileWaiting: ((String) -> Void)? = nil) throws(FSError) {
        let directory = RuntimeDirectory.path(root: root)
        try FileIO.makeDirectories(directory)
        let path = directory + "/lock"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FSError(operation: "open", path: path, code: errno) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return }
        if errno == EWOULDBLOCK { whileWaiting?(path) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else {
                let code = errno
                close(fd)
                throw FSError(operation: "flock", path: path, code: code)
            }
        }
    }

    deinit { close(fd) }
}
