// ec2-netgen-generator: a systemd generator (systemd.generator(7)).
//
// It runs at early boot and on every daemon-reload, before any network exists, and may
// write only into its output directories. So it never writes networkd files and never
// talks to another process; it decides whether ec2-netgen runs at all this boot:
//   - `ec2-netgen=off` on the kernel command line, or a machine that is not EC2 (DMI):
//     mask every ec2-netgen unit (symlinks to /dev/null in the early directory);
//   - otherwise: wire ec2-netgen-boot.service into sysinit.target and the refresh timer
//     into timers.target.
// A problem is logged to /dev/kmsg and the generator exits 0: it must never fail a boot.
import EC2NetFS
import Glibc

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count == 1 || arguments.count == 3, arguments.allSatisfy({ $0.hasPrefix("/") }) else {
    let message = "usage: ec2-netgen-generator NORMAL_DIR [EARLY_DIR LATE_DIR]\n"
    _ = message.withCString { write(2, $0, strlen($0)) }
    exit(1)
}
let generator = Generator(root: Generator.rootFromEnvironment(), normal: arguments[0],
                          early: arguments.count == 3 ? arguments[1] : arguments[0])
generator.run()
exit(0)
