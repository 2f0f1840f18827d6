// ec2-netgen-generator: a systemd generator (systemd.generator(7)).
//
// It runs at early boot and on every daemon-reload, before any network exists, and may
// write only into its output directories. So it never writes networkd files and never
// talks to another process; it decides whether ec2-netgen runs at all this boot
// (GeneratorDecision) and writes what that means (GeneratorOutput). This file is its I/O:
// the inputs read, the entries written, the log. A problem is logged to /dev/kmsg and the
// generator exits 0: it must never fail a boot.
//
// `EC2_NETGEN_GENERATOR_ROOT=DIR` (tests) only redirects what is read (`/proc/cmdline`,
// DMI, the configuration) and where the log goes; output directories are always the
// arguments.
import EC2NetCore
import EC2NetFS
import Glibc

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count == 1 || arguments.count == 3, arguments.allSatisfy({ $0.hasPrefix("/") }) else {
    let message = "usage: ec2-netgen-generator NORMAL_DIR [EARLY_DIR LATE_DIR]\n"
    _ = message.withCString { write(2, $0, strlen($0)) }
    exit(1)
}
let (normal, early) = (arguments[0], arguments.count == 3 ? arguments[1] : arguments[0])

/// The test root, validated (absolute, no `..`); "" in production.
let root: String = {
    guard let value = getenv("EC2_NETGEN_GENERATOR_ROOT") else { return "" }
    let root = String(cString: value)
    guard root.hasPrefix("/"), !root.split(separator: "/").contains("..") else { return "" }
    return root == "/" ? "" : root
}()

/// A small file's content without trailing newlines, or nil.
func read(_ path: String) -> String? {
    guard let bytes = try? FileIO.read(root + path, limit: 65536) else { return nil }
    var text = String(decoding: bytes, as: UTF8.self)
    while text.hasSuffix("\n") { text.removeLast() }
    return text
}

/// A kernel log line, `<level>ec2-netgen-generator: message`. The generator may talk to
/// no process, and the journal is not up yet; /dev/kmsg is how generators log.
func log(_ level: Int, _ message: String) {
    let fd = open(root + "/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NOCTTY)
    guard fd >= 0 else { return }
    defer { close(fd) }
    let line = "<\(level)>ec2-netgen-generator: \(message)\n"
    _ = line.withCString { write(fd, $0, strlen($0)) }
}

func write(_ output: GeneratorOutput) {
    for entry in output.entries {
        switch entry {
        case .symlink(let path, let target):
            do { try FileIO.makeDirectories(FileIO.parent(of: path)) } catch { log(3, "\(error)"); continue }
            if symlink(target, path) != 0 && errno != EEXIST { log(3, "symlink \(path): \(String(cString: strerror(errno)))") }
        case .file(let path, let contents):
            do {
                try FileIO.makeDirectories(FileIO.parent(of: path))
                try FileIO.writeAtomically(path, contents: contents, mode: 0o644)
            } catch {
                log(3, "\(error)")
            }
        }
    }
}

let dmi = GeneratorDecision.DMI(sysVendor: read("/sys/class/dmi/id/sys_vendor"), biosVersion: read("/sys/class/dmi/id/bios_version"),
                                productUUID: read("/sys/class/dmi/id/product_uuid"))
let (decision, warnings) = GeneratorDecision.decide(commandLine: read("/proc/cmdline"), dmi: dmi)
for warning in warnings { log(4, warning) }
switch decision {
case .mask(let reason):
    log(6, "masking ec2-netgen units: \(reason)")
    write(GeneratorOutput.masked(early: early))
case .enable:
    // Read leniently, as every unit's run reads it: a bad line is logged (file:line) and
    // ignored, and the rest applies.
    let (options, problems) = ConfigurationFiles.loadLenient(root: root.isEmpty ? "/" : root)
    for problem in problems { log(4, "ignoring \(problem)") }
    write(GeneratorOutput.enabled(normal: normal, options: options))
}
exit(0)
