"""One round of bench/booted for one tool: an instance made from the tool's prepared disk
(an AMI with the tool installed), booted as a new instance, then hot attach, a new
secondary address, hot detach, the steady state, a reboot; with 8 ENIs, a second new
instance. Every row is a figure of this round; bench/booted takes the medians."""
import hashlib, os, random, re, subprocess, threading, time

from vm import ENI, Instance, TapVPC, run  # noqa: F401

# The VM suite's ENIs: the primary dual-stack, the second in another subnet, the third
# attached while the instance runs.
def enis():
    return (ENI("e0", "02:00:00:00:01:01", 1, 0, ["10.0.1.10", "10.0.1.11"], ["2001:db8:0:1::10"]),
            ENI("e1", "02:00:00:00:01:02", 2, 1, ["10.0.2.20", "10.0.2.21"]),
            ENI("e2", "02:00:00:00:01:03", 3, 2, ["10.0.3.30", "10.0.3.31"]))


def image_enis():
    """The ENIs of the instance the AMI is made from (Round.prepare): the same subnets and
    addresses as enis(), other MACs, as every instance launched from an AMI has ENIs of its
    own. A tool that caches what it saw there knows none of a round's ENIs."""
    primary, second, _ = enis()
    return (ENI("p0", "02:00:00:00:0a:01", 1, 0, primary.ipv4s, primary.ipv6s, interface_id="eni-00000000000abca00"),
            ENI("p1", "02:00:00:00:0a:02", 2, 1, second.ipv4s, interface_id="eni-00000000000abca01"))


def eight_enis():
    primary, second, _ = enis()
    extra = []
    for device, subnet in zip(range(2, 8), [3, 1, 2, 3, 1, 2]):
        base = 40 + 2 * device
        extra.append(ENI("e%d" % device, "02:00:00:00:02:%02x" % device, subnet, device,
                         ["10.0.%d.%d" % (subnet, base), "10.0.%d.%d" % (subnet, base + 1)]))
    return [primary, second] + extra


# The slice the refresh service runs in during the steady-state window: its cgroup sums the
# CPU of every run, also of runs that have ended.
BENCH_SLICE = "benchtool.slice"
# Every VPC a round has up, so that a stop (SIGTERM) can end its guests at once: each round
# then fails at its next step and cleans up in its own finally blocks.
LIVE = set()
LIVE_LOCK = threading.Lock()


def retire(vpc):
    vpc.cleanup()
    with LIVE_LOCK:
        LIVE.discard(vpc)


def stop_guests():
    """Kills the QEMU process of every live round's guest (ours: started by this run)."""
    with LIVE_LOCK:
        vpcs = list(LIVE)
    for vpc in vpcs:
        for proc in list(vpc.pids):
            if proc.poll() is None and "qemu" in " ".join(proc.args if isinstance(proc.args, list) else [proc.args]):
                proc.kill()
WAIT_BOOT, WAIT_ATTACH, WAIT_ADDRESS, WAIT_DETACH = 300, 240, 150, 120
# At boot, an address still silent this long after the latest first reply of the others
# never answers (a tool that routes it does so within seconds of the rest).
BOOT_GRACE = 60
# After the addresses answered, how long the boot may take to finish starting up.
STARTUP_WAIT = 180


class FirstReplies:
    """Each (host, address) pair pinged every 200 ms from now on; the host's clock at each
    pair's first reply."""

    def __init__(self, vpc, pairs, seconds):
        self.vpc, self.pairs = vpc, list(pairs)
        self.first = {}
        self.procs = []
        self.threads = []
        for pair in self.pairs:
            role, address = pair
            # A count, not a deadline: with -w, ping gives up early once it has seen errors
            # (the router's host-unreachables while the guest boots).
            proc = subprocess.Popen(["ip", "netns", "exec", vpc.ns(role), "ping", "-n", "-i", "0.2", "-W", "1", "-c",
                                     str(int(seconds / 0.2)), address],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1)
            vpc.pids.append(proc)
            self.procs.append(proc)
            thread = threading.Thread(target=self._watch, args=(pair, proc), daemon=True)
            thread.start()
            self.threads.append(thread)

    def _watch(self, pair, proc):
        for line in proc.stdout:
            if " bytes from " in line:
                self.first[pair] = time.time()
                proc.terminate()
                break

    def wait(self, grace=None):
        """{pair: time of its first reply, or None}, once every pair answered or its ping gave
        up; with `grace`, also once that many seconds have passed since the latest first reply
        (the pairs still silent then count as never answering)."""
        while any(thread.is_alive() for thread in self.threads):
            if grace is not None and self.first and time.time() - max(self.first.values()) > grace:
                break
            time.sleep(0.2)
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for thread in self.threads:
            thread.join()
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
            proc.wait()
            self.vpc.pids.remove(proc)
        return {pair: self.first.get(pair) for pair in self.pairs}


def other_subnet_pairs(eni_list):
    """Every address of the ENIs from a host in another subnet (IPv6 too)."""
    pairs = []
    for eni in eni_list:
        host = "r2" if eni.subnet == 1 else "r1"
        pairs += [(host, a) for a in eni.ipv4s + eni.ipv6s]
    return pairs


def own_subnet_pairs(eni_list):
    """The floor's: each ENI's DHCP addresses from the host in its own subnet (it has no
    policy routing, so nothing answers another subnet from a second ENI, and no secondary
    address is configured). Subnet 3 has no host."""
    hosts = {1: "r1", 2: "r2"}
    return [(hosts[eni.subnet], a) for eni in eni_list if eni.subnet in hosts for a in eni.ipv4s[:1] + eni.ipv6s[:1]]


class Round:
    def __init__(self, tool, image, prepared, eight, steady=60):
        self.tool, self.image, self.prepared, self.eight, self.steady = tool, image, prepared, eight, steady
        self.result = {"tool": tool.name, "errors": []}

    def pairs(self, eni_list):
        return other_subnet_pairs(eni_list) if self.tool.routes_other_subnets else own_subnet_pairs(eni_list)

    # -- the prepared disk -------------------------------------------------------------
    @staticmethod
    def prepare(tool, image, debs, identities=None):
        """Boots the image once (cloud-init's first boot), installs the tool with its test-only
        lines, powers off: the qcow2 disk is the AMI every round starts from. Cached outside
        git, keyed by the image, the tool's recipe and the packages it installs (a package's
        bytes, or its `identities` entry: what it was built from, when its build is not
        byte-for-byte repeatable)."""
        used = {name: path for name, path in debs.items() if "/mnt/pkg/" + name in tool.install}
        key = hashlib.sha256(("%s\n%s\n%s\n%s\n" % (os.path.realpath(image), tool.name, tool.install,
                                                     " ".join(e.mac for e in image_enis()))).encode())
        for name in sorted(used):
            if identities and name in identities:
                key.update(identities[name].encode())
                continue
            with open(used[name], "rb") as f:
                key.update(hashlib.sha256(f.read()).digest())
        cache = os.path.join(os.environ.get("EC2_NETGEN_VM_CACHE", "/var/tmp/ec2-netgen-vm"), "booted")
        target = os.path.join(cache, "%s-%s.qcow2" % (tool.name, key.hexdigest()[:12]))
        if os.path.exists(target):
            return target
        os.makedirs(cache, exist_ok=True)
        vpc = TapVPC("/usr/bin/ec2-netgen")
        with LIVE_LOCK:
            LIVE.add(vpc)
        vpc.instance_id = "i-0b0000000000000%02d" % random.randrange(100)
        inst = None
        try:
            primary, second = image_enis()
            vpc.setup([primary, second], primary)
            inst = Instance(vpc, image, "prep-" + tool.name)
            pkg = os.path.join(inst.work, "pkg")
            os.makedirs(pkg)
            for name, path in used.items():
                subprocess.run(["cp", path, os.path.join(pkg, name)], check=True)
            disk = os.path.join(inst.work, "pkg.img")
            run(["mkfs.ext4", "-q", "-F", "-d", pkg, disk, "%dM" % (sum(os.path.getsize(p) for p in used.values()) * 2 // (1 << 20) + 16)])
            inst.start([primary, second], extra_disk=disk)
            cloud_init_ran(inst)
            code, out, err = inst.sh("mkdir -p /mnt/pkg && mount -o ro /dev/vdb /mnt/pkg && (%s) && umount /mnt/pkg" % tool.install,
                                     check=False, timeout=600)
            if code != 0:
                raise RuntimeError("installing %s failed: %s" % (tool.name, (out + err)[-1500:]))
            inst.stop()
            inst = None
            # One prepared disk per tool is kept: the older ones (another tree's package) go.
            for old in os.listdir(cache):
                if old.startswith(tool.name + "-") and old.endswith(".qcow2"):
                    os.unlink(os.path.join(cache, old))
            subprocess.run(["mv", os.path.join(vpc.work, "prep-" + tool.name, "disk.qcow2"), target + ".tmp"], check=True)
            os.rename(target + ".tmp", target)
            return target
        finally:
            if inst:
                inst.stop()
            retire(vpc)

    # -- one round ---------------------------------------------------------------------
    def run(self):
        started = time.time()
        try:
            self.life_cycle()
            if self.eight:
                self.eight_enis()
        except Exception as error:  # the round reports what it could not measure
            self.result["errors"].append("%s: %s" % (type(error).__name__, error))
        # What the round cost the machine, so a run's length can be planned.
        self.result["round seconds"] = round(time.time() - started)
        return self.result

    def new_vpc(self, eni_list):
        vpc = TapVPC("/usr/bin/ec2-netgen")
        vpc.instance_id = "i-0%016x" % random.getrandbits(64)  # a new instance to cloud-init
        with LIVE_LOCK:
            LIVE.add(vpc)
        vpc.setup(eni_list, eni_list[0])
        return vpc

    def boot(self, vpc, inst, eni_list, key, reboot=False):
        """QEMU start -> every pair's first reply; the source/destination check's drops meanwhile."""
        pairs = self.pairs(eni_list)
        drops_by_eni = vpc.drops()
        drops = sum(drops_by_eni.values())
        flows = vpc.dropped_flows()
        holder = {}

        def clocks():
            holder["probes"] = FirstReplies(vpc, pairs, WAIT_BOOT)
        if reboot:
            inst.reboot(before_start=clocks)
        else:
            clocks()
            inst.start(eni_list)
        first = holder["probes"].wait(grace=BOOT_GRACE)
        # An address that never answers is this tool's result, not a failure to measure it.
        late = [p for p, t in first.items() if t is None]
        answered = [t for t in first.values() if t is not None]
        if late:
            self.result[key + " unanswered"] = ["%s->%s" % p for p in late]
        if not answered:
            raise RuntimeError("%s: no address answered within %d s" % (key, WAIT_BOOT))
        self.result[key] = round(max(answered) - inst.started_at, 2)
        self.result[key + " drops"] = sum(vpc.drops().values()) - drops
        self.result[key + " drops per ENI"] = {
            n: d - drops_by_eni.get(n, 0) for n, d in vpc.drops().items() if d - drops_by_eni.get(n, 0)}
        # Which replies left through the wrong ENI (a flow is listed once however often).
        self.result[key + " dropped flows"] = vpc.flows_since(flows)
        # An address that answered once and then stopped (a reply routed out of the wrong ENI
        # once the other ENI came up) is a result too.
        still = [p for p in pairs if p not in late and vpc.ping(p[0], p[1], count=3, interval=0.2, wait=1)[1] != 3]
        if still:
            self.result[key + " stopped answering"] = ["%s->%s" % p for p in still]

    def boot_cost(self, inst, key):
        """When network-online.target and multi-user.target were reached (seconds since the
        kernel started, systemd's monotonic timestamps). A target not reached within
        STARTUP_WAIT of the addresses answering is this tool's result, as an address that
        never answers (a peer's boot with 8 ENIs still had jobs running after 3 minutes)."""
        code = inst.sh("timeout %d systemctl is-system-running --wait" % STARTUP_WAIT, check=False,
                       timeout=STARTUP_WAIT + 60)[0]
        if code == 124:
            jobs = " ".join(inst.out("systemctl list-jobs --no-legend --no-pager | awk '{print $2}' | head -5").split())
            self.result[key + " startup unfinished"] = "after %d s: %s" % (STARTUP_WAIT, jobs or "no job listed")
        out = inst.out("systemctl show -p ActiveEnterTimestampMonotonic network-online.target multi-user.target")
        stamps = [int(v) for v in re.findall(r"ActiveEnterTimestampMonotonic=(\d+)", out)]
        if len(stamps) != 2:
            raise RuntimeError("%s: no target timestamps: %r" % (key, out))
        for target, stamp in zip(("network-online", "multi-user"), stamps):
            if stamp:
                self.result["%s %s" % (key, target)] = round(stamp / 1e6, 2)
            else:
                self.result["%s %s unanswered" % (key, target)] = ["not reached %d s after the addresses answered" % STARTUP_WAIT]
        # What network-online.target waited for: the units on its critical chain.
        chain = inst.out("systemd-analyze critical-chain --no-pager network-online.target 2>&1 | tail -n +3")
        self.result[key + " critical chain"] = [line.strip().lstrip("└─").strip() for line in chain.splitlines() if line.strip()]

    def life_cycle(self):
        primary, second, third = enis()
        vpc = self.new_vpc([primary, second])
        inst = Instance(vpc, self.image, "i-" + self.tool.name, backing=self.prepared)
        try:
            self.boot(vpc, inst, [primary, second], "first boot")
            cloud_init_ran(inst)
            self.boot_cost(inst, "first boot")
            self.steady_state(vpc, inst)
            if self.tool.routes_other_subnets:
                self.attach(vpc, inst, [primary, second], third)
                if self.tool.follows_imds:
                    self.new_address(vpc, inst, [primary, second, third], second)
                self.detach(vpc, inst, third)
            vpc.publish(vpc.metadata([primary, second]))
            self.boot(vpc, inst, [primary, second], "reboot", reboot=True)
            self.boot_cost(inst, "reboot")
        finally:
            inst.stop()
            retire(vpc)

    def eight_enis(self):
        eni_list = eight_enis()
        vpc = self.new_vpc(eni_list)
        inst = Instance(vpc, self.image, "i8-" + self.tool.name, backing=self.prepared, memory=1024)
        try:
            self.boot(vpc, inst, eni_list, "first boot 8")
            self.boot_cost(inst, "first boot 8")
        finally:
            inst.stop()
            retire(vpc)

    def attach(self, vpc, inst, up, eni):
        vpc.plug(eni)
        vpc.write_dnsmasq_hosts()
        vpc.write_srcdst()
        vpc.publish(vpc.metadata(up + [eni]))
        probes = FirstReplies(vpc, [("r1", a) for a in eni.ipv4s], WAIT_ATTACH)
        drops, flows = sum(vpc.drops().values()), vpc.dropped_flows()
        added = inst.hot_plug(eni)
        first = probes.wait()
        self.result["hot attach drops"] = sum(vpc.drops().values()) - drops
        self.result["hot attach dropped flows"] = vpc.flows_since(flows)
        for which, address in (("primary", eni.ipv4s[0]), ("secondary", eni.ipv4s[1])):
            if first[("r1", address)] is None:
                self.result["hot attach %s unanswered" % which] = ["r1->%s" % address]
            else:
                self.result["hot attach %s" % which] = round(first[("r1", address)] - added, 2)

    def new_address(self, vpc, inst, attached, eni):
        """A secondary address assigned in IMDS (no event reaches the instance): until it answers."""
        address = "10.0.%d.%d" % (eni.subnet, 22 if eni.subnet == 2 else 12)
        eni.ipv4s.append(address)
        vpc.write_srcdst()
        probes = FirstReplies(vpc, [("r1" if eni.subnet != 1 else "r2", address)], WAIT_ADDRESS)
        added = time.time()
        vpc.publish(vpc.metadata(attached))
        first = list(probes.wait().values())[0]
        if first is None:
            self.result["new secondary address unanswered"] = [address]
        else:
            self.result["new secondary address"] = round(first - added, 2)

    def detach(self, vpc, inst, eni):
        """QMP device_del -> nothing of the ENI's left: no rule or route naming its addresses
        or link, no file under /run/systemd/network naming its link or MAC."""
        name = inst.link_name(eni.mac)
        plain = eni.mac.replace(":", "")
        probe = ("{ ip rule; ip -6 rule; ip route show table all; ip -6 route show table all; ls -R /run/systemd/network; "
                 "grep -ril '%s' /run/systemd/network; } 2>/dev/null | grep -i -e '10\\.0\\.%d\\.' -e '%s' -e '%s' -e '%s'"
                 % (eni.mac, eni.subnet, re.escape(name), plain, eni.mac))
        started = time.time()
        inst.hot_unplug(eni)
        deadline = started + WAIT_DETACH
        left = None
        while time.time() < deadline:
            left = inst.out(probe).strip()
            if not left:
                self.result["hot detach"] = round(time.time() - started, 2)
                break
            time.sleep(0.2)
        else:
            # What the tool leaves behind is its result, as an address that never answers.
            self.result["hot detach unanswered"] = ["left after %d s: %s" % (WAIT_DETACH, " ".join(left.split())[-200:])]
        vpc.unplug(eni)
        vpc.write_srcdst()

    def steady_state(self, vpc, inst):
        """The hour with nothing changing: a window with the tool's timers stopped (the
        baseline), then one as long with its refresh timer shortened to 5 s and its refresh
        service in a slice of its own (test-only drop-ins, removed after); per run of the
        refresh: its CPU (the slice's cgroup), the CPU of the services it makes work (INDUCED), the IMDS requests and
        packets, journal lines and processes forked, each beyond the baseline window. Scaled
        to the runs an hour has at the shipped interval. systemd's own "Consumed" lines are
        no use here: it logs them at debug level for runs under a second of CPU."""
        tool = self.tool
        if not tool.timer:
            before = self.counters(vpc, inst)
            time.sleep(self.steady)
            self.result["steady idle"] = self.delta(vpc, inst, before)
            return
        timers = inst.out("systemctl list-units --all --plain --no-legend '%s' | awk '{print $1}'" % tool.timer).split()
        if not timers:
            raise RuntimeError("steady state: no %s loaded" % tool.timer)
        units = " ".join("-u '%s'" % u.replace("@.", "@*.") for u in tool.refresh_units)
        self.result["steady shipped gaps"] = self.shipped_gaps(inst, units)
        inst.sh("systemctl stop %s" % " ".join(timers))
        before = self.counters(vpc, inst)
        time.sleep(self.steady)
        baseline = self.delta(vpc, inst, before)
        dropins = dict(tool.short_timer)
        for service in tool.refresh_units:
            dropins[service] = "[Service]\nSlice=%s\n" % BENCH_SLICE
        for unit, text in dropins.items():
            inst.sh("mkdir -p /run/systemd/system/%s.d && printf '%%s' '%s' > /run/systemd/system/%s.d/50-bench.conf"
                    % (unit, text, unit))
        inst.sh("systemctl daemon-reload && systemctl start %s && systemctl start %s" % (BENCH_SLICE, " ".join(timers)))
        before = self.counters(vpc, inst)
        time.sleep(self.steady)
        window = self.delta(vpc, inst, before)
        runs = int(inst.out("journalctl --no-pager -o cat --after-cursor='%s' %s | grep -c '^Starting '"
                            % (before["cursor"], units)).strip() or 0)
        if not runs:
            # What the timers and their services did is the only clue a failed round leaves.
            seen = inst.out("systemctl list-timers --all --no-pager '%s'; systemctl show -p Id,ActiveState,NextElapseUSecMonotonic,"
                            "LastTriggerUSecMonotonic,TimersMonotonic %s; cat /proc/uptime; "
                            "journalctl --no-pager -o short-monotonic --after-cursor='%s' | grep -v qemu-ga | tail -n 30"
                            % (tool.timer, " ".join(timers), before["cursor"]))
        for unit in dropins:
            inst.sh("rm -f /run/systemd/system/%s.d/50-bench.conf" % unit)
        inst.sh("systemctl daemon-reload && systemctl restart %s" % " ".join(timers))
        if not runs:
            raise RuntimeError("steady state: no run of %s in %d s with a 5 s timer; the guest said:\n%s"
                               % (tool.refresh_units, self.steady, seen[-6000:]))
        per_run = {"cpu": window["tool cpu"] / runs}
        for key in ("services cpu", "imds requests", "imds packets", "journal lines", "forks"):
            per_run[key] = (window[key] - baseline[key]) / runs
        hourly = tool.runs_per_hour(2)
        self.result["steady runs"] = runs
        self.result["steady baseline"] = baseline
        self.result["steady window"] = window
        self.result["steady per hour"] = {k: round(v * hourly, 3) for k, v in per_run.items()}

    @staticmethod
    def shipped_gaps(inst, units):
        """Seconds between one refresh unit's consecutive starts since boot, at the shipped
        timer: what the hourly scaling (runs_per_hour) assumes, as this boot saw it."""
        out = inst.out("journalctl -b --no-pager -o short-monotonic %s | grep ' Starting '" % units)
        starts = {}
        for match in re.finditer(r"^\[\s*([\d.]+)\] \S+ systemd\[1\]: Starting (\S+)", out, re.M):
            starts.setdefault(match.group(2), []).append(float(match.group(1)))
        return sorted(round(later - earlier, 1) for times in starts.values() for earlier, later in zip(times, times[1:]))

    # The services a refresh makes work, by name: systemd itself (timers, unit starts),
    # networkd (reloads), journald, udev, D-Bus and resolved. Not all of system.slice: what
    # else runs in it (cloud-init's last stage, a package's timer) made the stopped window
    # cost more than the running one, and the difference negative.
    INDUCED = ("init.scope", "system.slice/systemd-networkd.service", "system.slice/systemd-journald.service",
               "system.slice/systemd-udevd.service", "system.slice/dbus.service", "system.slice/dbus-broker.service",
               "system.slice/systemd-resolved.service")
    COUNTERS = ("grep '^processes ' /proc/stat; "
                "for c in %s; do cat /sys/fs/cgroup/$c/cpu.stat 2>/dev/null; done | "
                "awk '/^usage_usec /{s+=$2} END{print \"usage_usec\", s+0}'; "
                "cat /sys/fs/cgroup/%s/cpu.stat 2>/dev/null | grep '^usage_usec ' || echo 'usage_usec 0'"
                % (" ".join(INDUCED), "benchtool.slice"))

    def counters(self, vpc, inst):
        out = inst.out(self.COUNTERS + "; journalctl -n 0 --show-cursor --no-pager")
        numbers = re.findall(r"^(?:processes|usage_usec) (\d+)", out, re.M)
        return {"forks": int(numbers[0]), "services cpu": int(numbers[1]) / 1e6, "tool cpu": int(numbers[2]) / 1e6,
                "cursor": re.search(r"-- cursor: (\S+)", out).group(1),
                "imds requests": vpc.imds_requests(), "imds packets": vpc.imds_traffic()[0]}

    def delta(self, vpc, inst, before):
        out = inst.out(self.COUNTERS + "; journalctl --no-pager -q --after-cursor='%s' | wc -l" % before["cursor"])
        numbers = re.findall(r"^(?:processes|usage_usec) (\d+)", out, re.M)
        return {"forks": int(numbers[0]) - before["forks"],
                "services cpu": round(int(numbers[1]) / 1e6 - before["services cpu"], 3),
                "tool cpu": round(int(numbers[2]) / 1e6 - before["tool cpu"], 3),
                "journal lines": int(out.strip().splitlines()[-1]),
                "imds requests": vpc.imds_requests() - before["imds requests"],
                "imds packets": vpc.imds_traffic()[0] - before["imds packets"]}


def cloud_init_ran(inst):
    """cloud-init ran its real EC2 datasource (every tool runs on the same cloud image)."""
    code, out, err = inst.sh("cloud-init status --wait --long", check=False, timeout=600)
    if "status: done" not in out or "DataSourceEc2" not in out:
        raise RuntimeError("cloud-init did not finish on its EC2 datasource: %s" % (out + err)[-400:])

