"""An EC2 instance as a QEMU guest, its NICs on tap devices in the namespace VPC of the
scenario suite (Tests/scenarios/vpc.py): router, dnsmasq, the EC2-like stub IMDS with its
per-ENI policer, the source/destination check.

The guest is driven through the QEMU guest agent on a virtio-serial port, so no command
of the harness crosses the guest's network; hot plug goes through QMP. Every tap, process
and file is named by the VPC's run id and removed in cleanup(), also after a failure.
"""
import base64, fcntl, hashlib, json, os, socket, subprocess, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scenarios"))
from vpc import ENI, VPC, run  # noqa: E402


class TapVPC(VPC):
    """The scenario suite's VPC with tap devices (a guest's NICs) as the ENI ports instead
    of veths into an instance namespace. A tap carries the ENI's port name, so the
    source/destination check and the IMDS policer see it exactly as they see a veth."""

    def setup(self, enis, primary):
        self.primary = primary
        for role in ["vpc"] + self.HOSTS:
            self.add_namespace(role)
        VPC.setup_without_namespaces(self, enis)

    def plug(self, eni):
        self.enis[eni.name] = eni
        self.sh("vpc", "ip tuntap add dev %s mode tap && ip link set %s master br%d up" % (eni.port, eni.port, eni.subnet))

    def unplug(self, eni):
        self.sh("vpc", "ip link del %s" % eni.port, check=False)
        del self.enis[eni.name]


class QMP:
    """QEMU's machine protocol on a unix socket: one JSON command, one JSON answer."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(30)
        self.sock.connect(path)
        self.buffer = b""
        self.read()  # greeting
        self.command("qmp_capabilities")
        self.events = []

    def read(self):
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("QMP socket closed")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def command(self, name, **arguments):
        self.sock.sendall(json.dumps({"execute": name, "arguments": arguments}).encode() + b"\n")
        while True:
            answer = self.read()
            if "event" in answer:
                self.events.append(answer)
                continue
            if "error" in answer:
                raise RuntimeError("QMP %s: %s" % (name, answer["error"]))
            return answer.get("return")

    def close(self):
        self.sock.close()


class Agent:
    """The QEMU guest agent: guest-exec with captured output. A new connection per call,
    synchronised with guest-sync-delimited, so a guest reboot in between costs nothing."""

    def __init__(self, path):
        self.path = path
        self.sync_id = int(time.time()) % 100000

    def _connect(self, deadline):
        while True:
            try:
                sock = socket.socket(socket.AF_UNIX)
                sock.settimeout(2)
                sock.connect(self.path)
                self.sync_id += 1
                sock.sendall(b"\xff" + json.dumps({"execute": "guest-sync-delimited", "arguments": {"id": self.sync_id}}).encode() + b"\n")
                data = b""
                while True:
                    chunk = sock.recv(65536)
                    if not chunk:
                        raise OSError("closed")
                    data += chunk
                    if b"\xff" in data and data.rstrip().endswith(b"}"):
                        tail = data[data.rindex(b"\xff") + 1:]
                        try:
                            if json.loads(tail).get("return") == self.sync_id:
                                sock.settimeout(30)
                                return sock
                        except ValueError:
                            pass
            except OSError:
                try:
                    sock.close()
                except Exception:
                    pass
                if time.time() > deadline:
                    raise RuntimeError("the guest agent did not answer")
                time.sleep(0.5)

    def _call(self, sock, name, arguments):
        sock.sendall(json.dumps({"execute": name, "arguments": arguments}).encode() + b"\n")
        data = b""
        while True:
            chunk = sock.recv(1 << 20)
            if not chunk:
                raise RuntimeError("guest agent closed the connection during %s" % name)
            data += chunk
            for line in data.split(b"\n"):
                line = line.strip().lstrip(b"\xff")
                if not line:
                    continue
                try:
                    answer = json.loads(line)
                except ValueError:
                    break
                if "error" in answer:
                    raise RuntimeError("guest agent %s: %s" % (name, answer["error"]))
                if "return" in answer:
                    return answer["return"]

    def wait(self, seconds):
        self._connect(time.time() + seconds).close()

    def sh(self, command, timeout=120):
        """(exit code, stdout, stderr) of `sh -c command` in the guest. A guest that goes
        away mid-call (a reboot) raises RuntimeError, like one that never answered."""
        try:
            return self._sh(command, timeout)
        except OSError as error:
            raise RuntimeError("guest agent: %s during %s" % (error, command))

    def _sh(self, command, timeout):
        deadline = time.time() + timeout
        sock = self._connect(deadline)
        try:
            pid = self._call(sock, "guest-exec", {"path": "/bin/sh", "arg": ["-c", command], "capture-output": True})["pid"]
            while True:
                status = self._call(sock, "guest-exec-status", {"pid": pid})
                if status.get("exited"):
                    out = base64.b64decode(status.get("out-data", "")).decode(errors="replace")
                    err = base64.b64decode(status.get("err-data", "")).decode(errors="replace")
                    return status.get("exitcode", 128 + status.get("signal", 0)), out, err
                if time.time() > deadline:
                    raise RuntimeError("guest command timed out after %ss: %s" % (timeout, command))
                time.sleep(0.1)
        finally:
            sock.close()


class BootSlot:
    """At most one boot per core at a time across the suites Tests/vm/run starts side by
    side (EC2_NETGEN_VM_BOOT_SLOTS names a directory of lock files, one per core): a boot
    is the heaviest part of a guest's life under TCG. A boot of a cloud image takes every
    slot (`weight` = the number of cores): cloud-init's first stages are ordered before
    sysinit.target, so before the guest agent, and its Python alone kept one core busy
    for minutes with five guests sharing two. A boot's clock starts once it holds its
    slots. Without the variable (one suite run alone) every boot starts at once."""

    def __init__(self, weight=1):
        self.weight = weight

    def __enter__(self):
        self.held = []
        directory = os.environ.get("EC2_NETGEN_VM_BOOT_SLOTS")
        if not directory:
            return self
        slots = [os.path.join(directory, "boot-slot-%d" % n) for n in range(os.cpu_count() or 1)]
        if self.weight >= len(slots):
            # Every slot, in order: with one order for all, two heavy boots cannot deadlock.
            for path in slots:
                handle = open(path, "a")
                fcntl.flock(handle, fcntl.LOCK_EX)
                self.held.append(handle)
            return self
        while not self.held:
            for path in slots:
                handle = open(path, "a")
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    self.held.append(handle)
                    break
                except BlockingIOError:
                    handle.close()
            else:
                time.sleep(0.5)
        return self

    def __exit__(self, *error):
        for handle in self.held:
            handle.close()
        return False


class Instance:
    """One EC2 instance: a disk overlay that lives across boots, and per boot a QEMU
    process with the DMI of a Nitro instance, the ENIs' NICs on taps, spare PCIe root
    ports for hot plug, a QMP socket and the guest agent."""

    SPARE_PORTS = 2

    def __init__(self, vpc, image, name, memory=768, backing=None):
        """backing: a qcow2 disk of an earlier instance of this image to start from (an
        AMI made from it) instead of the image itself."""
        self.vpc, self.image, self.name, self.memory = vpc, image, name, memory
        self.work = os.path.join(vpc.work, name)
        os.makedirs(self.work, exist_ok=True)
        self.disk = os.path.join(self.work, "disk.qcow2")
        base = ["-F", "qcow2", "-b", backing] if backing else ["-F", "raw", "-b", os.path.join(image, "root.img")]
        run(["qemu-img", "create", "-q", "-f", "qcow2"] + base + [self.disk])
        self.qemu = None
        self.qmp = None
        self.agent = Agent(os.path.join(self.work, "qga.sock"))
        self.boots = 0
        # How many cores a boot of this image takes (BootSlot): all of them for cloud-init.
        with open(os.path.join(image, "versions")) as f:
            self.boot_weight = (os.cpu_count() or 1) if "cloud-init" in f.read() else 1
        self.ports = {}      # ENI name -> root port id
        self.extra_disk = None
        # Kernel command line words for every boot of this instance (the image's mode).
        self.kernel_arguments = ""
        digest = hashlib.sha256(name.encode()).hexdigest()
        self.uuid = "ec2%s-%s-4%s-8%s-%s" % (digest[:5], digest[5:9], digest[9:12], digest[12:15], digest[15:27])

    def kvm_works(self):
        if not os.path.exists("/dev/kvm"):
            return False
        probe = run(["qemu-system-x86_64", "-machine", "q35,accel=kvm", "-display", "none", "-S", "-nodefaults",
                     "-no-user-config", "-daemonize", "-pidfile", os.path.join(self.work, "kvm-probe.pid")], check=False, timeout=20)
        if probe.returncode != 0:
            return False
        with open(os.path.join(self.work, "kvm-probe.pid")) as f:
            os.kill(int(f.read().strip()), 9)
        return True

    def start(self, enis, vendor="Amazon EC2", cmdline="", extra_disk=None):
        """Boots the instance with these ENIs attached (in order: the first is ens on
        root port 1) and returns once the guest agent answers."""
        self.boots += 1
        self.last_start = (enis, vendor, cmdline, extra_disk)
        for path in ["qmp.sock", "qga.sock", "serial.sock"]:
            try:
                os.unlink(os.path.join(self.work, path))
            except FileNotFoundError:
                pass
        accel = "kvm" if os.environ.get("EC2_NETGEN_VM_KVM") == "1" else "tcg"
        uuid = self.uuid if vendor == "Amazon EC2" else "0a1" + self.uuid[3:]
        argv = ["ip", "netns", "exec", self.vpc.ns("vpc"), "qemu-system-x86_64",
                "-machine", "q35,accel=%s" % accel, "-m", str(self.memory), "-smp", "1", "-nodefaults", "-no-user-config",
                "-display", "none", "-vga", "none",
                # A guest reboot ends this QEMU process and reboot() starts the next one on
                # the same disk: QEMU/TCG's own reset hung one boot in a few here.
                "-no-reboot",
                "-kernel", os.path.join(self.image, "vmlinuz"), "-initrd", os.path.join(self.image, "initrd.img"),
                "-append", "root=/dev/vda rw console=ttyS0 panic=-1 systemd.show_status=0 %s %s" % (self.kernel_arguments, cmdline),
                "-drive", "file=%s,if=virtio,format=qcow2,cache=unsafe" % self.disk,
                "-smbios", "type=0,vendor=%s" % vendor,
                # A Nitro instance's system UUID starts with "ec2" and its serial repeats it:
                # what cloud-init's ds-identify and EC2 datasource look for.
                # Another vendor's machine gets a UUID of its own kind.
                "-smbios", "type=1,manufacturer=%s,product=m5.large,serial=%s,uuid=%s" % (vendor, uuid, uuid),
                "-smbios", "type=3,manufacturer=%s" % vendor,
                "-chardev", "socket,id=ser0,path=%s,server=on,wait=off,logfile=%s,logappend=on"
                % (os.path.join(self.work, "serial.sock"), os.path.join(self.work, "serial.log")),
                "-serial", "chardev:ser0",
                "-qmp", "unix:%s,server=on,wait=off" % os.path.join(self.work, "qmp.sock"),
                "-device", "virtio-serial-pci,id=vser0",
                "-chardev", "socket,id=qga0,path=%s,server=on,wait=off" % os.path.join(self.work, "qga.sock"),
                "-device", "virtserialport,bus=vser0.0,chardev=qga0,name=org.qemu.guest_agent.0"]
        self.ports = {}
        for slot in range(1, len(enis) + self.SPARE_PORTS + 1):
            argv += ["-device", "pcie-root-port,id=rp%d,chassis=%d,slot=%d,bus=pcie.0" % (slot, slot, slot)]
        for slot, eni in enumerate(enis, start=1):
            argv += ["-netdev", "tap,id=nd-%s,ifname=%s,script=no,downscript=no" % (eni.name, eni.port),
                     "-device", "virtio-net-pci,id=nic-%s,netdev=nd-%s,mac=%s,bus=rp%d" % (eni.name, eni.name, eni.mac, slot)]
            self.ports[eni.name] = "rp%d" % slot
        self.free_ports = ["rp%d" % slot for slot in range(len(enis) + 1, len(enis) + self.SPARE_PORTS + 1)]
        if extra_disk:
            argv += ["-drive", "file=%s,if=virtio,format=raw,readonly=on" % extra_disk]
        with BootSlot(self.boot_weight):
            self.started_at = time.time()
            self.qemu = self.vpc.spawn(argv, "%s-qemu.log" % self.name)
            self.vpc.wait_for(lambda: os.path.exists(os.path.join(self.work, "qmp.sock")), 20, "QEMU's QMP socket")
            self.qmp = self.connect_qmp()
            self.agent.wait(240)
            self.booted_after = time.time() - self.started_at

    def connect_qmp(self, seconds=10):
        """QMP on the QEMU just started. A refused connection is retried while QEMU runs; a
        QEMU that exited is reported with its status and its own log (one CI run saw the
        socket refuse the connection right after the start, with nothing on the console)."""
        deadline = time.time() + seconds
        while True:
            try:
                return QMP(os.path.join(self.work, "qmp.sock"))
            except OSError as error:
                if self.qemu.poll() is not None or time.time() > deadline:
                    try:
                        with open(os.path.join(self.vpc.work, "%s-qemu.log" % self.name), errors="replace") as f:
                            log = f.read()[-1500:]
                    except FileNotFoundError:
                        log = "(no log)"
                    raise RuntimeError("QMP: %s; QEMU %s; its log: %s" % (
                        error, "exited with %s" % self.qemu.returncode if self.qemu.returncode is not None else "still running",
                        log.strip() or "(empty)"))
                time.sleep(0.2)

    def sh(self, command, check=True, timeout=120):
        code, out, err = self.agent.sh(command, timeout=timeout)
        self.vpc.log.write("[%s] %s -> %d\n%s%s" % (self.name, command, code, out, err))
        self.vpc.log.flush()
        if check and code != 0:
            raise RuntimeError("guest: %s failed (%d): %s%s" % (command, code, out, err))
        return code, out, err

    def out(self, command, timeout=120):
        return self.sh(command, check=False, timeout=timeout)[1]

    def wait_guest(self, command, seconds, what):
        """Waits until a guest command exits 0."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            if self.sh(command, check=False)[0] == 0:
                return True
            time.sleep(0.5)
        raise RuntimeError("timed out after %ss waiting for %s" % (seconds, what))

    def link_name(self, mac):
        for line in self.out("ip -o link show").splitlines():
            if ("link/ether %s " % mac) in line:
                return line.split(": ")[1].split("@")[0]
        return None

    def reboot(self, before_start=None):
        """`systemctl reboot` in the guest; QEMU exits at the reset (-no-reboot) and the
        instance boots again on the same disk with the same NICs. before_start() runs
        between the two QEMU processes (a benchmark starts its clocks there)."""
        try:
            self.sh("systemctl reboot", check=False, timeout=10)
        except RuntimeError:
            pass  # the agent may go away mid-call
        try:
            self.qemu.wait(timeout=120)
        except subprocess.TimeoutExpired:
            raise RuntimeError("the guest did not reboot within 120 s")
        if self.qmp:
            self.qmp.close()
            self.qmp = None
        self.vpc.pids.remove(self.qemu)
        self.qemu = None
        self.boots -= 1  # start() counts it
        if before_start:
            before_start()
        self.start(*self.last_start)

    @property
    def boot_id(self):
        return self.out("cat /proc/sys/kernel/random/boot_id").strip()

    def hot_plug(self, eni):
        """QMP netdev_add + device_add of a virtio NIC on a free root port (the ENI's tap
        must exist). Returns the time of device_add."""
        port = self.free_ports.pop(0)
        self.qmp.command("netdev_add", type="tap", id="nd-%s" % eni.name, ifname=eni.port, script="no", downscript="no")
        at = time.time()
        self.qmp.command("device_add", driver="virtio-net-pci", id="nic-%s" % eni.name, netdev="nd-%s" % eni.name,
                         mac=eni.mac, bus=port)
        self.ports[eni.name] = port
        return at

    def hot_unplug(self, eni, seconds=60):
        """QMP device_del, waiting for QEMU's DEVICE_DELETED (the guest let go), then netdev_del."""
        self.qmp.command("device_del", id="nic-%s" % eni.name)
        deadline = time.time() + seconds
        while time.time() < deadline:
            if any(e.get("event") == "DEVICE_DELETED" and e.get("data", {}).get("device") == "nic-%s" % eni.name
                   for e in self.qmp.events):
                break
            self.qmp.command("query-status")  # collects pending events
            time.sleep(0.2)
        else:
            raise RuntimeError("the guest did not release nic-%s within %ss" % (eni.name, seconds))
        self.qmp.events = [e for e in self.qmp.events if e.get("data", {}).get("device") != "nic-%s" % eni.name]
        self.qmp.command("netdev_del", id="nd-%s" % eni.name)
        self.free_ports.append(self.ports.pop(eni.name))

    def stop(self):
        """Powers the guest off (clean shutdown, then kill after a grace period)."""
        if self.qemu is None:
            return
        if self.qemu.poll() is None:
            try:
                self.agent.sh("systemctl poweroff", timeout=5)
            except RuntimeError:
                pass
            try:
                self.qemu.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.qemu.kill()
                self.qemu.wait(timeout=10)
        if self.qmp:
            self.qmp.close()
            self.qmp = None
        self.vpc.pids.remove(self.qemu)
        self.qemu = None

    def serial(self):
        try:
            with open(os.path.join(self.work, "serial.log"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""
