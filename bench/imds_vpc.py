"""The IMDS benchmark's world: an instance namespace whose veth ENIs (names and MACs from
gen-instance.py) lead into a VPC namespace where the stub IMDS answers on
169.254.169.254:80 as EC2 does (a connection per request), EC2's link-local policer drops
what exceeds 1024 packets/s per ENI (burst 50), and a packet capture records every packet
the instance sends to IMDS with the kernel's timestamp, per ENI.

Each ENI k gets 100.64.k.10/24 and a main-table default route via its own port (metric
512+k), so a socket bound to ENI k's link leaves through it and an unbound one through
the primary, as on an instance. Everything is named per run and removed in close().
"""
import json, os, secrets, signal, socket, struct, subprocess, sys, tempfile, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
STUB = os.path.join(REPO, "Tests", "stub-imds", "stub_imds.py")
SO_TIMESTAMPNS = 35  # Linux; Python's socket module does not name it
IMDS = socket.inet_aton("169.254.169.254")


def sh(argv, check=True):
    return subprocess.run(argv, check=check, capture_output=True, text=True)


class Capture:
    """Packets towards IMDS entering the VPC, per port, with kernel timestamps. Runs in
    the VPC namespace in a thread of a helper process (setns needs its own process)."""

    SCRIPT = r"""
import socket, struct, sys
SO_TIMESTAMPNS = 35
IMDS = socket.inet_aton("169.254.169.254")
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
out = open(sys.argv[1], "w", buffering=1 << 16)
print("ready", flush=True)
while True:
    data, anc, flags, addr = s.recvmsg(128, 64)
    if addr[2] == socket.PACKET_OUTGOING or len(data) < 34 or data[12:14] != b"\x08\x00":
        continue
    if data[30:34] != IMDS:
        continue
    stamp = 0.0
    for level, kind, value in anc:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            sec, nsec = struct.unpack("qq", value[:16])
            stamp = sec + nsec / 1e9
    ihl = (data[14] & 0x0f) * 4
    tcp = 14 + ihl
    syn = len(data) > tcp + 13 and data[14 + 9] == 6 and (data[tcp + 13] & 0x12) == 0x02
    sport = struct.unpack("!H", data[tcp:tcp + 2])[0] if len(data) > tcp + 2 else 0
    out.write("%.6f %s %d %d\n" % (stamp, addr[0], 1 if syn else 0, sport))
    out.flush()
"""

    def __init__(self, namespace, path):
        self.path = path
        self.proc = subprocess.Popen(["ip", "netns", "exec", namespace, sys.executable, "-c", self.SCRIPT, path],
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "ready", "capture did not start"

    def packets(self, start, end):
        """[(time, port, is_syn, source_port)] between two time.time() stamps."""
        result = []
        with open(self.path) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 4 and start <= float(parts[0]) <= end:
                    result.append((float(parts[0]), parts[1], parts[2] == "1", int(parts[3])))
        return result

    def close(self):
        self.proc.kill()
        self.proc.wait()


def peak(times, window):
    """Most packets in any window of `window` seconds."""
    times = sorted(times)
    best, low = 0, 0
    for high, t in enumerate(times):
        while t - times[low] >= window:
            low += 1
        best = max(best, high - low + 1)
    return best


class BenchVPC:
    def __init__(self, instance_dir):
        self.id = "ecnb" + secrets.token_hex(3)
        self.work = tempfile.mkdtemp(prefix="ec2-netgen-imdsbench-")
        self.vpc, self.inst = self.id + "-vpc", self.id + "-inst"
        self.procs, self.namespaces = [], []
        with open(os.path.join(instance_dir, "links.json")) as f:
            self.links = json.load(f)
        with open(os.path.join(instance_dir, "metadata.json")) as f:
            self.document = json.load(f)
        self.links_file = os.path.join(instance_dir, "links.json")
        try:
            self._setup()
        except BaseException:
            self.close()
            raise

    def _setup(self):
        for ns in [self.vpc, self.inst]:
            sh(["ip", "netns", "add", ns])
            self.namespaces.append(ns)
            sh(["ip", "-n", ns, "link", "set", "lo", "up"])
        sh(["ip", "-n", self.vpc, "addr", "add", "169.254.169.254/32", "dev", "lo"])
        policer = ["table inet ec2imds {", "  chain pre {", "    type filter hook prerouting priority -300; policy accept;"]
        counters = []
        for k, link in enumerate(self.links):
            port = "p%d" % k
            sh(["ip", "link", "add", link["name"], "address", link["mac"], "netns", self.inst, "type", "veth",
                "peer", "name", port, "netns", self.vpc])
            sh(["ip", "-n", self.vpc, "addr", "add", "100.64.%d.1/24" % k, "dev", port])
            sh(["ip", "-n", self.vpc, "link", "set", port, "up"])
            sh(["ip", "-n", self.inst, "addr", "add", "100.64.%d.10/24" % k, "dev", link["name"]])
            # A global IPv6 address too: amazon-ec2-net-utils reads ipv6s only for a link with one.
            sh(["ip", "-n", self.inst, "addr", "add", "2001:db8:ff:%x::10/64" % k, "dev", link["name"], "nodad"])
            sh(["ip", "-n", self.inst, "link", "set", link["name"], "up"])
            sh(["ip", "-n", self.inst, "route", "add", "default", "via", "100.64.%d.1" % k, "dev", link["name"],
                "metric", str(512 + k)])
            policer.append('    iifname "%s" ip daddr 169.254.169.254 limit rate over 1024/second burst 50 packets '
                           'counter name "policed_%s" drop' % (port, port))
            counters.append("  counter policed_%s { }" % port)
        policer += ["  }"] + counters + ["}"]
        nft = os.path.join(self.work, "policer.nft")
        with open(nft, "w") as f:
            f.write("\n".join(policer) + "\n")
        sh(["ip", "netns", "exec", self.vpc, "nft", "-f", nft])
        self.document_path = os.path.join(self.work, "imds.json")
        self.publish(self.document)
        stub = subprocess.Popen(["ip", "netns", "exec", self.vpc, sys.executable, STUB, "--document", self.document_path,
                                 "--listen", "169.254.169.254:80", "--log", os.path.join(self.work, "imds.log")],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(stub)
        for _ in range(200):
            probe = sh(["ip", "netns", "exec", self.inst, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                        "-X", "PUT", "-H", "X-aws-ec2-metadata-token-ttl-seconds: 60",
                        "http://169.254.169.254/latest/api/token"], check=False)
            if probe.stdout == "200":
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("stub IMDS did not answer in the bench VPC")
        self.capture = Capture(self.vpc, os.path.join(self.work, "capture.txt"))
        self.procs.append(self.capture.proc)

    def start_imds_service(self, tree, root):
        """systemd's IMDS service of the Debian tree `tree` as its socket unit runs it
        (Accept=yes: one systemd-imdsd per connection), listening under `root` where
        `apply --root` looks for it; its endpoint settings are hwdb's for EC2."""
        socket_path = os.path.join(root, "run/systemd/io.systemd.InstanceMetadata")
        os.makedirs(os.path.join(root, "run/systemd/imds"), exist_ok=True)
        cmdline = ("systemd.imds.vendor=amazon-ec2 systemd.imds.address_ipv4=169.254.169.254 "
                   "systemd.imds.address_ipv6=fd00:ec2::254 systemd.imds.data_url=http://169.254.169.254/latest "
                   "systemd.imds.token_url=http://169.254.169.254/latest/api/token "
                   "systemd.imds.refresh_header_name=X-aws-ec2-metadata-token-ttl-seconds "
                   "systemd.imds.token_header_name=X-aws-ec2-metadata-token")
        script = ("mount -n -t proc proc %(t)s/proc && mount -n --bind %(r)s/run %(t)s/run && exec systemd-socket-activate "
                  "--accept --fdname=varlink -l %(s)s -E 'SYSTEMD_PROC_CMDLINE=%(c)s' -E RUNTIME_DIRECTORY=/run/systemd/imds "
                  "chroot %(t)s /usr/lib/systemd/systemd-imdsd") % {"t": tree, "r": root, "s": socket_path, "c": cmdline}
        proc = subprocess.Popen(["ip", "netns", "exec", self.inst, "unshare", "-m", "--propagation", "private", "sh", "-c", script],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(proc)
        for _ in range(100):
            if os.path.exists(socket_path):
                return
            time.sleep(0.05)
        raise RuntimeError("systemd-imdsd's socket did not appear at " + socket_path)

    def publish(self, document):
        with open(self.document_path + ".tmp", "w") as f:
            json.dump(document, f)
        os.rename(self.document_path + ".tmp", self.document_path)

    def requests(self):
        try:
            with open(os.path.join(self.work, "imds.log")) as f:
                return [json.loads(line) for line in f]
        except FileNotFoundError:
            return []

    def policed(self):
        result = sh(["ip", "netns", "exec", self.vpc, "nft", "-j", "list", "counters", "table", "inet", "ec2imds"])
        total = 0
        for item in json.loads(result.stdout).get("nftables", []):
            if "counter" in item:
                total += item["counter"]["packets"]
        return total

    def measure(self, argv, env=None):
        """Runs argv in the instance namespace; returns wall seconds, status, output and
        what it cost IMDS: requests, connections, packets, peaks per ENI, policed drops."""
        time.sleep(1.1)  # so one run's per-second window never holds another's packets
        log_before, policed_before = len(self.requests()), self.policed()
        start = time.time()
        t0 = time.monotonic()
        result = subprocess.run(["ip", "netns", "exec", self.inst] + argv, capture_output=True, text=True, env=env)
        wall = time.monotonic() - t0
        time.sleep(0.3)  # the last FIN/ACKs and the capture's flush
        packets = self.capture.packets(start - 0.01, time.time())
        by_port = {}
        for stamp, port, _, _ in packets:
            by_port.setdefault(port, []).append(stamp)
        return {
            "wall": wall, "status": result.returncode, "stdout": result.stdout, "stderr": result.stderr,
            "requests": len(self.requests()) - log_before,
            "connections": len({(port, sport) for _, port, syn, sport in packets if syn}),
            "packets": len(packets),
            "peak100": max([peak(v, 0.1) for v in by_port.values()] or [0]),
            "peak1s": max([peak(v, 1.0) for v in by_port.values()] or [0]),
            "policed": self.policed() - policed_before,
        }

    def close(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        # What still runs in the instance was started here (systemd-imdsd's children).
        for pid in sh(["ip", "netns", "pids", self.inst], check=False).stdout.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        for ns in self.namespaces:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        subprocess.run(["rm", "-rf", self.work])
