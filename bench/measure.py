"""Measurement helpers for bench/run: the release build, one process run with its CPU
time and peak RSS, hyperfine for short-lived processes, the stub IMDS, the machine line
and the synthetic instance generator."""
import json, os, platform, shutil, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
OUT = os.path.join(HERE, "out")
STUB = os.path.join(REPO, "Tests", "stub-imds", "stub_imds.py")


def build():
    """Release build with the static Swift runtime, stripped, as shipped."""
    # No debug info for Swift or C: the shipped binary is stripped, and valgrind (bench/run
    # runs callgrind on this build) cannot read the DWARF clang writes for C targets.
    subprocess.run(["swift", "build", "-c", "release", "--static-swift-stdlib", "-Xswiftc", "-gnone", "-Xcc", "-g0"],
                   cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    binpath = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=REPO, check=True,
                             capture_output=True, text=True).stdout.strip()
    os.makedirs(OUT, exist_ok=True)
    binaries = {}
    for name in ["ec2-netgen", "ec2-netgen-generator"]:
        src = os.path.join(binpath, name)
        if os.path.exists(src):
            dst = os.path.join(OUT, name)
            subprocess.run(["strip", "-o", dst, src], check=True)
            binaries[name] = dst
    return binaries


def tmpfs_workdir(prefix):
    """A work directory on a tmpfs (/dev/shm). On an instance both ec2-netgen and netplan's
    generator write /run/systemd/network, a tmpfs; a disk filesystem here would add its
    fsync and journal costs (most of a cold apply's system time on this machine's ext4)
    and measure the disk, not the tools."""
    base = "/dev/shm"
    kind = subprocess.run(["stat", "-f", "-c", "%T", base], capture_output=True, text=True).stdout.strip()
    if kind != "tmpfs":
        raise SystemExit("bench: %s is %r, not a tmpfs; the offline rows need one" % (base, kind))
    return tempfile.mkdtemp(prefix=prefix, dir=base)


def run_process(argv, env=None):
    """Runs argv once, spawned directly: wall (monotonic) and CPU (the wait4 rusage of that
    process alone), stdout, stderr and status. The CPU numbers of the tables come from
    here: under GNU time (run_rusage) the rusage also holds time's own start-up, about
    2 ms of CPU on this machine, which would be added to both sides of every ratio."""
    start = time.perf_counter()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    # posix_spawn (vfork underneath): a fork of this Python process would charge the
    # child for copying and tearing down the interpreter's page tables.
    pid = os.posix_spawn(argv[0], argv, env or os.environ, file_actions=[
        (os.POSIX_SPAWN_DUP2, out_w, 1), (os.POSIX_SPAWN_DUP2, err_w, 2),
        (os.POSIX_SPAWN_CLOSE, out_r), (os.POSIX_SPAWN_CLOSE, err_r)])
    os.close(out_w)
    os.close(err_w)
    stdout, stderr = drain(out_r, err_r)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "stdout": stdout, "stderr": stderr,
            "status": os.waitstatus_to_exitcode(status)}


def drain(out_r, err_r):
    """Reads two pipes to their ends; returns their text."""
    import selectors
    chunks = {out_r: [], err_r: []}
    sel = selectors.DefaultSelector()
    sel.register(out_r, selectors.EVENT_READ)
    sel.register(err_r, selectors.EVENT_READ)
    open_fds = 2
    while open_fds:
        for key, _ in sel.select():
            data = os.read(key.fd, 65536)
            if not data:
                sel.unregister(key.fd)
                open_fds -= 1
            else:
                chunks[key.fd].append(data)
    os.close(out_r)
    os.close(err_r)
    return b"".join(chunks[out_r]).decode(), b"".join(chunks[err_r]).decode()


def run_rusage(argv, env=None):
    """Runs argv once under GNU time, for its peak RSS (GNU time's %M); wall and CPU as
    well, but that CPU includes time's own (see run_process). A child forked from this
    Python process, or spawned with vfork, would inherit this interpreter's page
    high-water mark in its ru_maxrss; GNU time is a small C process, so its children
    report their own peak (plus at most the ~2 MiB `/usr/bin/time true` shows)."""
    rss_file = tempfile.mktemp(prefix="ec2-netgen-bench-rss-")
    result = run_process(["/usr/bin/time", "-q", "-f", "%M", "-o", rss_file] + argv, env)
    with open(rss_file) as f:
        result["rss_kib"] = int(f.read().split()[-1])
    os.unlink(rss_file)
    return result


def median(values):
    return statistics.median(values)


def ms(seconds):
    return "%.1f" % (seconds * 1000)


class Stub:
    """The stub IMDS on 127.0.0.1 with a fixed added latency per request."""

    def __init__(self, document, latency_ms):
        self.dir = tempfile.mkdtemp(prefix="ec2-netgen-bench-")
        faults = os.path.join(self.dir, "faults.json")
        with open(faults, "w") as f:
            json.dump({"latency_ms": latency_ms}, f)
        port_file = os.path.join(self.dir, "port")
        self.log = os.path.join(self.dir, "log.jsonl")
        self.proc = subprocess.Popen([sys.executable, STUB, "--document", document, "--faults", faults,
                                      "--port-file", port_file, "--log", self.log])
        for _ in range(200):
            if os.path.exists(port_file):
                break
            time.sleep(0.025)
        with open(port_file) as f:
            self.endpoint = "http://127.0.0.1:%d" % int(f.read())

    def requests(self):
        with open(self.log) as f:
            return [json.loads(line) for line in f]

    def clear(self):
        open(self.log, "w").close()

    def close(self):
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def machine():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%s, %d cores (`nproc`), %s, Linux %s" % (cpu, os.cpu_count(), platform.machine(), platform.release())


def gen_instance(directory, enis, ipv4, ipv6, prefixes, netplan=False):
    argv = [sys.executable, os.path.join(HERE, "gen-instance.py"), directory, "--enis", str(enis),
            "--ipv4", str(ipv4), "--ipv6", str(ipv6)]
    if prefixes:
        argv.append("--prefixes")
    if netplan:
        argv.append("--netplan")
    subprocess.run(argv, check=True)


def hyperfine(commands, runs):
    """Median wall and mean CPU per command from hyperfine (Debian's package), which starts
    processes directly (-N) with far less overhead than this script can. The commands run
    in alternating rounds so drift on a shared machine hits both alike."""
    if not shutil.which("hyperfine"):
        raise SystemExit("bench: hyperfine not found (scripts/setup installs it)")
    rounds = 5
    samples = {command: {"times": [], "cpu": []} for command in commands}
    for _ in range(rounds):
        out = tempfile.mktemp(prefix="ec2-netgen-bench-hf-", suffix=".json")
        subprocess.run(["hyperfine", "-N", "-i", "--warmup", "5", "--runs", str(max(3, runs // rounds)), "--export-json", out]
                       + commands, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(out) as f:
            for result in json.load(f)["results"]:
                samples[result["command"]]["times"] += result["times"]
                samples[result["command"]]["cpu"].append(result["user"] + result["system"])
        os.unlink(out)
    return {c: (median(v["times"]), statistics.mean(v["cpu"])) for c, v in samples.items()}
