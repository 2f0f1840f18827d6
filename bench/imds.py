"""IMDS cost against an EC2-like IMDS in a policed VPC (imds_vpc.py): for each instance
size, a cold apply, a steady-state refresh and a hot attach, by three clients in the same
run:

- ec2-netgen as built now;
- the previous ec2-netgen client (the commit named in PREVIOUS, built once from git into a
  cache outside the tree): unpaced, 8 parallel connections, everything from the primary;
- amazon-ec2-net-utils v2.7.4, its real `setup-policy-routes.sh` and `lib.sh` run per
  interface as its udev units and timers run them (one process per ENI, all ENIs at
  once at boot, one `curl` per request, `--interface` for secondary ENIs). Its source is
  never in this tree: the bench takes it from $AMAZON_EC2_NET_UTILS or from
  /var/tmp/ec2-netgen-bench/amazon-ec2-net-utils and fails loudly when neither exists.
"""
import copy, json, os, shutil, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from imds_vpc import BenchVPC  # noqa: E402
from measure import gen_instance, median  # noqa: E402

# The client before pacing, per-ENI sources and request economy.
PREVIOUS = "b169925"
CACHE = "/var/tmp/ec2-netgen-bench"


def previous_binary():
    """The previous client, built from git once and cached by commit."""
    commit = subprocess.run(["git", "rev-parse", PREVIOUS], cwd=REPO, capture_output=True, text=True, check=True).stdout.strip()
    target = os.path.join(CACHE, "ec2-netgen-" + commit[:12])
    if os.path.exists(target):
        return target
    source = tempfile.mkdtemp(prefix="ec2-netgen-previous-")
    try:
        archive = subprocess.run(["git", "archive", commit], cwd=REPO, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", source], input=archive, check=True)
        subprocess.run(["swift", "build", "-c", "release", "--static-swift-stdlib", "-Xswiftc", "-gnone", "--product", "ec2-netgen"],
                       cwd=source, check=True, stdout=subprocess.DEVNULL)
        built = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=source, capture_output=True,
                               text=True, check=True).stdout.strip()
        os.makedirs(CACHE, exist_ok=True)
        subprocess.run(["strip", "-o", target + ".tmp", os.path.join(built, "ec2-netgen")], check=True)
        os.rename(target + ".tmp", target)
    finally:
        shutil.rmtree(source, ignore_errors=True)
    return target


def peer_source():
    """Its checkout, or None with the reason printed (the full run then stops)."""
    path = os.environ.get("AMAZON_EC2_NET_UTILS") or os.path.join(CACHE, "amazon-ec2-net-utils")
    if os.path.exists(os.path.join(path, "lib", "lib.sh")):
        return path
    print("bench: amazon-ec2-net-utils not found at %s: put a checkout of its public repository (v2.7.4) there "
          "or name one with AMAZON_EC2_NET_UTILS; its rows are missing from this run" % path, file=sys.stderr)
    return None


def without_last(document):
    """The document before the last ENI was attached."""
    doc = copy.deepcopy(document)
    macs = doc["meta-data"]["network"]["interfaces"]["macs"]
    del macs[sorted(macs)[-1]]
    return doc


class Ours:
    """ec2-netgen (either build): apply under a root of its own, links from the file."""

    def __init__(self, binary, vpc, config=None):
        self.binary, self.vpc, self.config = binary, vpc, config

    def apply(self, root, extra=()):
        if self.config:
            os.makedirs(os.path.join(root, "etc/ec2-netgen"), exist_ok=True)
            with open(os.path.join(root, "etc/ec2-netgen/ec2-netgen.conf"), "w") as f:
                f.write(self.config)
        return self.vpc.measure([self.binary, "apply", "--root", root, "--links", self.vpc.links_file, "--no-reload"] + list(extra))

    def runs(self, work):
        vpc = self.vpc
        root = tempfile.mkdtemp(dir=work)
        vpc.publish(vpc.document)
        cold = self.apply(root)
        refresh = self.apply(root)
        assert cold["status"] == 0 and refresh["status"] == 0, cold["stderr"] + refresh["stderr"]
        assert "no change" in refresh["stdout"], "a refresh with nothing new changed files: " + refresh["stdout"]
        if len(vpc.links) < 2:
            return {"cold": cold, "refresh": refresh}  # the primary is never hot-attached
        attach_root = tempfile.mkdtemp(dir=work)
        vpc.publish(without_last(vpc.document))
        assert self.apply(attach_root)["status"] == 0
        vpc.publish(vpc.document)
        attach = self.apply(attach_root, ["--wait-for", vpc.links[-1]["name"]])
        return {"cold": cold, "refresh": refresh, "attach": attach}


class ThroughSystemd(Ours):
    """ec2-netgen with `[IMDS] UseSystemdIMDS=yes`: it reads through systemd's IMDS service
    (systemd-imdsd of a Debian unstable tree, Varlink) listening under its root."""

    def __init__(self, binary, vpc, tree):
        Ours.__init__(self, binary, vpc, "[IMDS]\nUseSystemdIMDS=yes\n")
        self.tree, self.roots = tree, set()

    def apply(self, root, extra=()):
        if root not in self.roots:
            self.vpc.start_imds_service(self.tree, root)
            self.roots.add(root)
        result = Ours.apply(self, root, extra)
        assert "systemd-imdsd at" in result["stdout"] and "failed first" not in result["stdout"], \
            "not read through systemd-imdsd: " + result["stdout"] + result["stderr"]
        return result


def imds_tree():
    """The Debian unstable tree with systemd-imds (Tests/scenarios/networkd-tree, cached)."""
    result = subprocess.run([os.path.join(REPO, "Tests", "scenarios", "networkd-tree"), "sid"], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit("bench: no Debian unstable tree for systemd-imdsd: " + result.stderr)
    return result.stdout.strip()


class Peer:
    """amazon-ec2-net-utils: its script per interface in a private mount namespace whose
    /run holds its state (marker files, generated units) across runs, as a booted
    instance's /run does. networkd is not running, so its final `networkctl reload`
    fails after every IMDS request was made; the exit status is not judged."""

    def __init__(self, source, vpc, work):
        self.vpc = vpc
        self.run_dir = tempfile.mkdtemp(dir=work)
        # Its own script; the library directory is its LIBDIR_OVERRIDE, a copy with the
        # version filled in as its installation does.
        self.script = os.path.join(source, "bin", "setup-policy-routes.sh")
        self.lib = os.path.join(work, "peer-lib")
        os.makedirs(self.lib)
        with open(os.path.join(source, "lib", "lib.sh")) as f:
            lib = f.read().replace("AMAZON_EC2_NET_UTILS_VERSION", "2.7.4")
        with open(os.path.join(self.lib, "lib.sh"), "w") as f:
            f.write(lib)

    def run(self, interfaces, initial):
        inner = " & ".join("bash %s %s refresh >/dev/null 2>&1" % (self.script, name) for name in interfaces) + " & wait"
        env = "export LIBDIR_OVERRIDE=%s; " % self.lib + ("export EC2_IF_INITIAL_SETUP=1; " if initial else "")
        command = ("mount -n -t tmpfs tmpfs /run && mkdir -p /run/systemd/network /run/amazon-ec2-net-utils && "
                   "mount -n --bind %s /run/amazon-ec2-net-utils && %s%s" % (self.run_dir, env, inner))
        return self.vpc.measure(["unshare", "-m", "--propagation", "private", "sh", "-c", command])

    def runs(self, work):
        vpc = self.vpc
        names = [link["name"] for link in vpc.links]
        vpc.publish(vpc.document)
        cold = self.run(names, initial=True)  # coldplug: every ENI's unit at once
        refresh = self.run(names, initial=False)  # every ENI's timer (not aligned on an instance: an upper bound)
        if len(names) < 2:
            return {"cold": cold, "refresh": refresh}
        vpc.publish(vpc.document)
        attach = self.run(names[-1:], initial=True)
        return {"cold": cold, "refresh": refresh, "attach": attach}


def bench_imds(binary, quick):
    sizes = [1, 16] if quick else [1, 4, 16, 32]
    reps = 1 if quick else 3
    peer = peer_source()
    if peer is None and not quick:
        raise SystemExit("bench: the full run needs the peer (see above)")
    tree = imds_tree()
    clients = [("ec2-netgen", lambda vpc, work: Ours(binary, vpc)),
               ("ec2-netgen through systemd-imdsd", lambda vpc, work: ThroughSystemd(binary, vpc, tree)),
               ("ec2-netgen, pacing alone", lambda vpc, work: Ours(binary, vpc, "[IMDS]\nSendFromOwnInterface=no\n")),
               ("previous ec2-netgen (%s)" % PREVIOUS, lambda vpc, work: Ours(previous_binary(), vpc)),
               ("amazon-ec2-net-utils 2.7.4", lambda vpc, work: Peer(peer, vpc, work))]
    if peer is None:
        clients.pop()
    results = {}
    for enis in sizes:
        instance = tempfile.mkdtemp(prefix="ec2-netgen-bench-")
        try:
            gen_instance(instance, enis, 50, 50, True)
            for rep in range(reps):
                vpc = BenchVPC(instance)
                work = tempfile.mkdtemp(prefix="ec2-netgen-bench-work-")
                try:
                    for name, make in clients:
                        for kind, run in make(vpc, work).runs(work).items():
                            results.setdefault((enis, name, kind), []).append(run)
                finally:
                    vpc.close()
                    shutil.rmtree(work, ignore_errors=True)
        finally:
            shutil.rmtree(instance, ignore_errors=True)
    lines = ["| ENIs | client | run | wall ms | requests | connections | client packets | peak / 100 ms / ENI | "
             "peak / 1 s / ENI | policed | retries | exit |",
             "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    rows = {}
    order = {"cold": 0, "refresh": 1, "attach": 2}
    for (enis, name, kind), runs in sorted(results.items(), key=lambda item: (item[0][0], order[item[0][2]])):
        def m(key):
            return median([r[key] for r in runs])
        retries = sorted({r["stdout"].split(" requests, ")[1].split(" retries")[0] for r in runs if " retries" in r["stdout"]}) or ["—"]
        row = {"wall": m("wall"), "requests": m("requests"), "connections": m("connections"), "packets": m("packets"),
               "peak100": max(r["peak100"] for r in runs), "peak1s": max(r["peak1s"] for r in runs),
               "policed": sum(r["policed"] for r in runs), "retries": "/".join(retries),
               "status": "/".join(sorted({str(r["status"]) for r in runs}))}
        rows[(enis, name, kind)] = row
        lines.append("| %d | %s | %s | %.0f | %d | %d | %d | %d | %d | %d | %s | %s |" % (
            enis, name, kind, row["wall"] * 1000, row["requests"], row["connections"], row["packets"], row["peak100"],
            row["peak1s"], row["policed"], row["retries"], row["status"] if name.startswith("amazon") else
            ("ok" if row["status"] == "0" else "**failed %s**" % row["status"])))
    if peer is None:
        lines.append("")
        lines.append("**amazon-ec2-net-utils was not run**: its source was not found (see `bench/imds.py`).")
    return "\n".join(lines), reps, rows
