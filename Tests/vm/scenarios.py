"""The life cycle of an EC2 instance that runs ec2-netgen, on a booted Debian guest: the
package installed with dpkg -i, systemd as PID 1, udevd, the generator, coldplug, hot
attach and detach through QMP, the refresh timer, a reboot with IMDS unreachable, the
off switches, and the package's removal. One instance per image; each check prints its
own ok/FAIL line, and the run ends with "N passed, M failed".

    python3 Tests/vm/scenarios.py IMAGE_DIR DEB [--previous DEB] [--shell]

A cloud image (one with cloud-init) runs Tests/vm/cloud.py's life cycle instead, which
upgrades from the --previous release's package.

--shell boots the instance with the package installed and the VPC up, prints how to
reach its serial console, and waits for Enter (the debugging shell of README).
"""
import json, os, re, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import known_failures  # noqa: E402
from vm import ENI, Instance, TapVPC, run  # noqa: E402

# The one test-only change to the image: EC2's NIC drivers do not exist in QEMU, so the
# guest's virtio NICs are marked as EC2 NICs the way 99-ec2-netgen.rules documents.
VIRTIO_RULE = 'SUBSYSTEM=="net", ACTION!="remove", DRIVERS=="virtio_net", ENV{EC2_NETGEN_NIC}="1"'
RULE_PATH = "/etc/udev/rules.d/98-test-virtio-nic.rules"

# The primary is dual-stack: the refresh unit's IPv6 IMDS check needs an IPv6 route.
PRIMARY = ENI("e0", "02:00:00:00:01:01", 1, 0, ["10.0.1.10", "10.0.1.11"], ["2001:db8:0:1::10"])
SECOND = ENI("e1", "02:00:00:00:01:02", 2, 1, ["10.0.2.20", "10.0.2.21"])
HOTPLUG = ENI("e2", "02:00:00:00:01:03", 3, 2, ["10.0.3.30", "10.0.3.31"])

results = []
numbers = []
# Strict checks this image does not pass yet: {key: "#issue what fails"} from
# Tests/known-failures, suite vm/IMAGE (a check opts in with its key). A listed check that
# fails is printed as KNOWN FAIL and not counted; one that passes says so.
KNOWN = {}
SUITE = "vm"


def check(name, passed, detail="", key=None):
    if key in KNOWN:
        if passed:
            results.append(True)
            print("KNOWN FAIL PASSED - %s %s: %s: listed in Tests/known-failures (%s) but passed this run"
                  % (SUITE, key, name, KNOWN[key]), flush=True)
        else:
            print("KNOWN FAIL - %s %s (%s), not counted: %s: %s" % (SUITE, key, KNOWN[key], name, detail), flush=True)
        return passed
    results.append(bool(passed))
    print("%s - %s%s" % ("ok  " if passed else "FAIL", name, "" if passed or not detail else ": " + detail), flush=True)
    return passed


def info(line):
    print("     " + line, flush=True)


def mac_file(mac, suffix):
    return "/run/systemd/network/05-ec2-netgen-%s.%s" % (mac.replace(":", ""), suffix)


# Connects as nobody to both IMDS addresses, unbound and from each address given; prints
# "endpoint binding result" per attempt (the scenario suite's IMDS-locked probe, in a guest).
IMDS_PROBE = r'''
import errno, socket, sys
for family, host in [(socket.AF_INET, "169.254.169.254"), (socket.AF_INET6, "fd00:ec2::254")]:
    for source in [None] + [a for a in sys.argv[1:] if (":" in a) == (family == socket.AF_INET6)]:
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(2)
        try:
            if source:
                s.bind((source, 0))
            s.connect((host, 80))
            result = "connected"
        except OSError as e:
            result = errno.errorcode.get(e.errno, str(e)) if e.errno else "timeout"
        print(host, source or "unbound", result)
'''


class Suite:
    def __init__(self, image, deb, label, imds_mode=None):
        self.image, self.deb, self.label = image, deb, label
        self.vpc = TapVPC("/usr/bin/ec2-netgen")
        self.inst = None
        # systemd.imds.network= for every boot (images with systemd-imds), else None.
        self.imds_mode = imds_mode

    # -- helpers -----------------------------------------------------------------------
    def links(self):
        return {eni.name: self.inst.link_name(eni.mac) for eni in self.vpc.enis.values()}

    def unit_state(self, unit):
        out = self.inst.out("systemctl show -p ActiveState -p SubState -p Result -p LoadState %s" % unit)
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def wait_configured(self, eni, seconds):
        """Until ec2-netgen's files for the ENI exist and its table has a default route."""
        table = 10000 + eni.device
        self.inst.wait_guest("test -f %s && ip route show table %d | grep -q default" % (mac_file(eni.mac, "network"), table),
                             seconds, "ec2-netgen's files and table %d for %s" % (table, eni.mac))

    def replies(self, pairs, count=3):
        """Every (host, address) pair gets all its replies."""
        bad = []
        for role, address in pairs:
            sent, received = self.vpc.ping(role, address, count=count, interval=0.2, wait=2)
            if received != sent:
                bad.append("%s->%s %d/%d" % (role, address, received, sent))
        return bad

    def link_file_applied(self, eni):
        name = self.inst.link_name(eni.mac)
        if not name:
            return "no link with MAC %s" % eni.mac
        udev = self.inst.out("udevadm info -q property /sys/class/net/%s" % name)
        applied = re.search(r"^ID_NET_LINK_FILE=(.*)$", udev, re.M)
        link = self.inst.out("ip -d link show dev %s" % name)
        want = [eni.interface_id, "device-number-%d.0" % eni.device]
        missing = [n for n in want if ("altname %s\n" % n) not in link + "\n" and ("altname %s " % n) not in link]
        if not applied or applied.group(1) != mac_file(eni.mac, "link"):
            return "%s: ID_NET_LINK_FILE=%s" % (name, applied.group(1) if applied else "(none)")
        if missing:
            return "%s: altnames %s missing (%s)" % (name, missing, " ".join(re.findall(r"altname \S+", link)))
        return None

    def attach(self, eni):
        """The ENI into the VPC and IMDS, then QMP device_add: (time of device_add, the
        guest's boot time on this clock, time of the first reply from the ENI's secondary
        address to r1, or None after 120 s). Meanwhile r1 (the primary's subnet) also pings
        the ENI's DHCP address every 200 ms, so a reply from it leaving through the primary
        before the ENI's rules exist is dropped, and counted, by the source/destination check."""
        self.vpc.plug(eni)
        self.vpc.write_dnsmasq_hosts()
        self.vpc.write_srcdst()
        self.vpc.publish(self.vpc.metadata())
        offset = time.time() - float(self.inst.out("cut -d' ' -f1 /proc/uptime"))
        background = subprocess.Popen(["ip", "netns", "exec", self.vpc.ns("r1"), "ping", "-n", "-q", "-i", "0.2", "-W", "1",
                                       "-w", "130", eni.ipv4s[0]], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            added = self.inst.hot_plug(eni)
            deadline = time.time() + 120
            while time.time() < deadline:
                if self.vpc.ping("r1", eni.ipv4s[1], count=1, wait=1)[1] == 1:
                    first = time.time()
                    time.sleep(2)  # the DHCP address comes with (or after) the static one: more of its pings
                    return added, offset, first
            return added, offset, None
        finally:
            background.kill()
            background.wait()

    def ec2netgen_units(self):
        out = self.inst.out("systemctl list-units --all --plain --no-legend 'ec2-netgen*'")
        return [line.split()[0] for line in out.splitlines() if line.strip()]

    def block_imds(self, blocked):
        table = "%sblock" % self.vpc.id
        if blocked:
            self.vpc.sh("vpc", "nft add table inet %s && nft add chain inet %s pre '{ type filter hook prerouting priority -300; }' && "
                               "nft add rule inet %s pre ip daddr 169.254.169.254 drop" % (table, table, table))
        else:
            self.vpc.sh("vpc", "nft delete table inet %s" % table, check=False)

    # -- the life cycle ----------------------------------------------------------------
    def run(self, shell=False):
        self.vpc.setup([PRIMARY, SECOND], PRIMARY)
        self.inst = Instance(self.vpc, self.image, "i-" + self.label.split()[0])
        if self.imds_mode:
            self.inst.kernel_arguments = "systemd.imds.network=%s" % self.imds_mode
        self.install()
        if shell:
            return self.shell()
        # systemd-imds's other modes (unlocked, off) run the life cycle that depends on the
        # mode, with one attach; the unstable image's locked suite runs the rest (the three
        # attaches of the attach race, the switches and the removal: four more boots each).
        full = self.imds_mode in (None, "locked")
        self.first_boot()
        self.systemd_imds("first boot")
        for attempt in range(1, 4 if full else 2):
            self.attach_detach(attempt)
        self.refresh_timer()
        self.systemd_imds("after attaches, detaches and the refresh timer")
        self.imds_over_ipv6()
        self.reboot_without_imds()
        self.systemd_imds("after a reboot from the cache")
        self.units_end_clean()
        if full:
            self.switched_off("ec2-netgen=off on the kernel command line", cmdline="ec2-netgen=off")
            self.switched_off("a non-EC2 machine (DMI vendor QEMU)", vendor="QEMU")
            self.remove_package()

    def systemd_imds(self, when):
        """On an image with systemd-imds: systemd's IMDS service answers, and in locked mode
        IMDS stays locked with ec2-netgen's files in place (nobody is refused unbound and
        from every ENI address), while ec2-netgen's own reads worked (the other checks)."""
        if not self.imds_mode:
            return
        label = "%s: systemd-imds, %s" % (self.label, when)
        code, out, err = self.inst.sh("/usr/lib/systemd/systemd-imds --well-known=hostname", check=False, timeout=60)
        check("%s: `systemd-imds --well-known=hostname` answers through systemd-imdsd" % label,
              code == 0 and "ec2.internal" in out, (out + err)[-300:])
        state = self.unit_state("systemd-imds-import.service")
        check("%s: systemd-imds-import.service succeeded" % label,
              state.get("Result") == "success" and state.get("ActiveState") in ("active", "inactive"), str(state))
        # Prohibit routes in systemd-imdsd's file; prohibit routes and rules in ec2-netgen's.
        early_file, catch_all_file = "/run/systemd/network/85-imds-early.network", "/run/systemd/network/80-ec2-netgen-default.network"
        files = self.inst.out("for f in %s %s; do if [ -f $f ]; then grep -c '^Type=prohibit' $f || true; else echo none; fi; done"
                              % (early_file, catch_all_file)).split()
        want = {"locked": ["2", "4"], "unlocked": ["0", "0"], "off": ["none", "none"]}[self.imds_mode]
        if self.imds_mode == "off" and files[1] != "none":
            # Off, ec2-netgen's /run catch-all exists only to hold new links back (NewLinks):
            # then it must carry nothing of systemd-imdsd's.
            imds_lines = self.inst.out("grep -c '0x7FFF0815\\|^Type=prohibit\\|fd00:ec2::254\\|169.254.169.254' %s || true"
                                       % catch_all_file).strip()
            holds_back = "DHCP=no" in self.inst.out("cat %s" % catch_all_file)
            files[1] = "none" if imds_lines == "0" and holds_back else "%s (IMDS lines %s, holds new links back: %s)" % (
                files[1], imds_lines, holds_back)
        check("%s: systemd-imdsd's early file and ec2-netgen's catch-all in /run agree (%s)" % (label, self.imds_mode),
              files == want, "prohibit routes in the early file, the catch-all: %s (want %s; none: no file, or off: "
              "only the catch-all holding new links back)" % (files, want))
        # The daemon's mark rule: on every ENI's file where systemd-imds networks IMDS, nowhere when off.
        rules = self.inst.out("ip rule; ip -6 rule")
        marks = rules.count("fwmark 0x7fff0815 lookup 2147420181")
        check("%s: the mark rule of systemd-imdsd's table once per family, none when off" % label,
              marks == (0 if self.imds_mode == "off" else 2), rules[-600:])
        addresses = [a for eni in (PRIMARY, SECOND) for a in eni.ipv4s + eni.ipv6s]
        self.inst.sh("cat > /run/imds-probe.py <<'EOF'\n%sEOF" % IMDS_PROBE)
        out = self.inst.out("setpriv --reuid=nobody --regid=nogroup --clear-groups python3 /run/imds-probe.py %s 2>&1"
                            % " ".join(addresses))
        lines = [line.split() for line in out.strip().splitlines()]
        if self.imds_mode != "locked":
            # Open to every process, as without systemd-imds (and as without ec2-netgen).
            check("%s: an unprivileged process reaches IPv4 IMDS, unbound and from every ENI IPv4 address (%s)" % (label, self.imds_mode),
                  all(line[2] == "connected" for line in lines if len(line) == 3 and line[0] == "169.254.169.254")
                  and sum(1 for line in lines if line[0] == "169.254.169.254") == 1 + sum(1 for a in addresses if ":" not in a),
                  out.strip()[-400:])
            return
        reached = [" ".join(line) for line in lines if len(line) != 3 or line[2] != "EACCES"]
        check("%s: an unprivileged process is refused both IMDS addresses, unbound and from every ENI address" % label,
              len(lines) == 2 + len(addresses) and not reached, out.strip()[-400:])

    def install(self):
        pkg = os.path.join(self.inst.work, "pkg")
        os.makedirs(pkg, exist_ok=True)
        subprocess.run(["cp", self.deb, os.path.join(pkg, "ec2-netgen.deb")], check=True)
        image = os.path.join(self.inst.work, "pkg.img")
        run(["mkfs.ext4", "-q", "-F", "-d", pkg, image, "%dM" % (os.path.getsize(self.deb) // (1 << 20) + 16)])
        self.inst.start([], extra_disk=image)
        info("%s: boot to guest agent %.1f s (TCG)" % (self.label, self.inst.booted_after))
        code, out, err = self.inst.sh("mkdir -p /mnt/pkg && mount -o ro /dev/vdb /mnt/pkg && dpkg -i /mnt/pkg/ec2-netgen.deb", check=False)
        check("%s: dpkg -i installs the package built from debian/ (maintainer scripts ran)" % self.label,
              code == 0 and "Setting up ec2-netgen" in out, (out + err)[-400:])
        self.inst.sh("umount /mnt/pkg; printf '%%s\\n' '%s' > %s" % (VIRTIO_RULE, RULE_PATH))
        security = self.inst.out("for u in ec2-netgen-boot.service ec2-netgen-refresh.service ec2-netgen@enp1s0.service; do "
                                 "printf '%s ' $u; systemd-analyze security --no-pager $u 2>&1 | tail -1; done")
        for line in security.strip().splitlines():
            info("%s: systemd-analyze security %s" % (self.label, line.replace("→ ", "")))
        check("%s: systemd-analyze security rates every ec2-netgen service" % self.label,
              security.count("Overall exposure level") == 3, security)
        self.inst.stop()

    def first_boot(self):
        self.inst.start([PRIMARY, SECOND])
        t0 = self.inst.started_at
        try:
            for eni in (PRIMARY, SECOND):
                self.wait_configured(eni, 150)
            configured = time.time() - t0
            numbers.append("%s: boot (QEMU start) -> ec2-netgen's rules and tables for 2 ENIs: %.1f s" % (self.label, configured))
            check("%s: first boot: coldplug starts ec2-netgen@ per ENI, files written, networkd reloaded" % self.label, True)
        except RuntimeError as error:
            check("%s: first boot: coldplug starts ec2-netgen@ per ENI, files written, networkd reloaded" % self.label, False, str(error))
            return
        names = self.links()
        units = [self.unit_state("ec2-netgen@%s.service" % names[eni.name]) for eni in (PRIMARY, SECOND)]
        # The units' entries were sent before they exited; journald in a guest starved of
        # CPU (three TCG guests on two cores) can take a while to store them.
        # The refresh timer's first run can come before the udev-started units on a guest
        # slow to boot; then it configures the ENIs and the units find their files up to date.
        journal = ""
        deadline = time.time() + 15
        while time.time() < deadline:
            journal = self.inst.out("journalctl -b --no-pager -o cat -u 'ec2-netgen@*' -u ec2-netgen-refresh.service")
            if journal.count("configured: table") >= 2:
                break
            time.sleep(1)
        check("%s: first boot: one ec2-netgen@ unit per ENI, active" % self.label,
              all(u.get("ActiveState") == "active" for u in units) and journal.count("configured: table") >= 2,
              "%s / %s" % (units, journal[-300:]))
        drops_before = sum(self.vpc.drops().values())
        flows_before = self.vpc.dropped_flows()
        bad = self.replies([("r2", a) for a in PRIMARY.ipv4s] + [("r1", a) for a in SECOND.ipv4s] +
                           [("inet", a) for a in PRIMARY.ipv4s + SECOND.ipv4s])
        drops = sum(self.vpc.drops().values()) - drops_before
        check("%s: first boot: replies from every address of both ENIs reach other subnets and the internet, no VPC drop"
              % self.label, not bad and drops == 0, "%s, %d dropped by the source/destination check %s"
              % (bad, drops, self.vpc.flows_since(flows_before)), key="first-boot-replies")
        problems = [p for p in (self.link_file_applied(e) for e in (PRIMARY, SECOND)) if p]
        check("%s: first boot: every ENI has ec2-netgen's .link applied (ID_NET_LINK_FILE, altnames)" % self.label,
              not problems, "; ".join(problems))

    def attach_detach(self, attempt):
        eni = HOTPLUG
        configured = "configured: table %d" % (10000 + eni.device)
        # Only this attach's entries count: earlier attaches reuse the link name.
        cursor = self.inst.out("journalctl -n 1 -o cat --show-cursor --no-pager").strip().split("-- cursor: ")[-1]
        since = "journalctl --no-pager -o cat --after-cursor='%s' -u " % cursor
        drops_before, flows_before = sum(self.vpc.drops().values()), self.vpc.dropped_flows()
        added, offset, first_reply = self.attach(eni)
        name = self.inst.link_name(eni.mac)
        label = "%s: hot attach %d" % (self.label, attempt)
        if not check("%s: a remote host gets replies from the new ENI's secondary address" % label, first_reply is not None,
                     "no reply within 120 s (link %s)" % name):
            self.detach(eni, attempt, name)
            return
        drops = sum(self.vpc.drops().values()) - drops_before
        check("%s: no reply from the new ENI's addresses left through another ENI (pinged from the primary's subnet "
              "from device_add on)" % label, drops == 0,
              "%d dropped by the source/destination check %s; the packets: %s"
              % (drops, self.vpc.flows_since(flows_before), "; ".join(self.vpc.dropped_packets(added)) or "not recorded"),
              key="attach-drops")
        renamed = self.inst.out("journalctl -k -b --no-pager -o short-monotonic | grep 'renamed from' | tail -1")
        match = re.match(r"\[\s*([\d.]+)\]", renamed.strip())
        since_add = first_reply - (offset + float(match.group(1))) if match else None
        numbers.append("%s: device_add -> first reply %.1f s; udev add (rename) -> first reply %s s" %
                       (label, first_reply - added, "%.1f" % since_add if since_add is not None else "?"))
        # The refresh timer (about every 60 s) may write the new ENI's files between the
        # attach and the udev-started unit; that unit then finds them up to date. The first
        # reply can come before journald has the unit's lines (TCG), so the journal is read
        # again until they are there, for at most 10 s; the attach's timing is measured above.
        for _ in range(20):
            journal = self.inst.out(since + "ec2-netgen@%s.service" % name)
            by_refresh = configured in self.inst.out(since + "ec2-netgen-refresh.service")
            if configured in journal or (by_refresh and "no change" in journal):
                break
            time.sleep(0.5)
        check("%s: udev started ec2-netgen@%s.service (journal)" % (label, name),
              configured in journal or (by_refresh and "no change" in journal),
              "%s (refresh timer configured it meanwhile: %s)" % (journal[-300:], by_refresh))
        # Whichever run wrote the new ENI's files said so in a catalogued entry keyed by the
        # ENI's id (journalctl EC2_ENI_ID=…), in this boot, after the attach. The entries
        # are filtered here, not by a journalctl match: in a bookworm guest (journalctl 252)
        # --after-cursor with a MESSAGE_ID match printed nothing while -o verbose after the
        # same cursor showed the entry.
        entries = self.inst.out("journalctl --no-pager -o json --output-fields=MESSAGE_ID,EC2_ENI_ID --after-cursor='%s'"
                                % cursor)
        ids = sorted(set(entry.get("EC2_ENI_ID") for entry in map(json.loads, filter(None, entries.splitlines()))
                         if entry.get("MESSAGE_ID") == "49a24502605e4ebe993e67e51b6c3eed" and "EC2_ENI_ID" in entry))
        check("%s: the journal holds a structured entry (MESSAGE_ID, EC2_ENI_ID) for the new ENI" % label,
              eni.interface_id in ids, "EC2_ENI_ID values of the catalogued entries since the attach: %r" % ids,
              key="attach-journal")
        problem = None
        for _ in range(20):  # the altnames follow the re-triggered add event
            problem = self.link_file_applied(eni)
            if not problem:
                break
            time.sleep(0.5)
        check("%s: the ENI's altnames are on the link without a reboot" % label, not problem, problem or "")
        self.detach(eni, attempt, name)

    def detach(self, eni, attempt, name):
        label = "%s: hot detach %d" % (self.label, attempt)
        try:
            self.inst.hot_unplug(eni)
        except RuntimeError as error:
            check("%s: device_del" % label, False, str(error))
            return
        self.vpc.unplug(eni)
        self.vpc.publish(self.vpc.metadata())
        table, priority = 10000 + eni.device, 10000 + eni.device
        gone = "! test -e %s && ! test -e %s && ! ip rule | grep -q 'lookup %d' && test -z \"$(ip route show table %d)\"" % (
            mac_file(eni.mac, "network"), mac_file(eni.mac, "link"), table, table)
        try:
            self.inst.wait_guest(gone + " && ! systemctl is-active -q ec2-netgen@%s.service" % name, 60, "the detached ENI's files and rules to go")
            ok, detail = True, ""
        except RuntimeError as error:
            ok, detail = False, "%s; %s" % (error, self.unit_state("ec2-netgen@%s.service" % name))
        check("%s: the unit stops; the ENI's files, rules and routes are gone" % label, ok, detail)
        bad = self.replies([("r2", PRIMARY.ipv4s[1]), ("r1", SECOND.ipv4s[1])], count=2)
        check("%s: the other ENIs keep working" % label, not bad, str(bad))
        del priority

    def refresh_timer(self):
        label = "%s: refresh timer" % self.label
        # As an operator does it: the file, then daemon-reload (the generator rewrites the
        # timer's drop-in and systemd re-reads the timer).
        self.inst.sh("mkdir -p /etc/ec2-netgen && printf '[Refresh]\\nIntervalSec=10\\n' > /etc/ec2-netgen/ec2-netgen.conf && "
                     "systemctl daemon-reload")
        interval = self.inst.out("systemctl show -p TimersMonotonic ec2-netgen-refresh.timer")
        SECOND.ipv4s.append("10.0.2.22")
        self.vpc.write_srcdst()
        self.vpc.publish(self.vpc.metadata())
        # Pings to the addresses already there, for the whole pickup.
        pinger = subprocess.Popen(["ip", "netns", "exec", self.vpc.ns("r1"), "ping", "-n", "-q", "-i", "0.2", "-c", "200", "-W", "2",
                                   SECOND.ipv4s[1]],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.vpc.pids.append(pinger)
        try:
            name = self.inst.link_name(SECOND.mac)
            self.inst.wait_guest("ip -o addr show dev %s | grep -q ' 10.0.2.22/'" % name, 38, "10.0.2.22 on %s" % name)
            picked = True
        except RuntimeError:
            picked = False
        reply = picked and self.vpc.reachable("r1", "10.0.2.22", seconds=10)
        out = pinger.communicate(timeout=60)[0]
        self.vpc.pids.remove(pinger)
        match = re.search(r"(\d+) packets transmitted, (\d+) received", out)
        lost = int(match.group(1)) - int(match.group(2)) if match else -1
        check("%s ([Refresh] IntervalSec=10 through the generator) picks up a secondary IP added in IMDS" % label,
              picked and reply and "OnUnitActiveUSec=10s" in interval.replace(" ", ""), "picked=%s reply=%s %s" % (picked, reply, interval.strip()))
        check("%s: no reply lost to the address already there during the pickup" % label, lost == 0, out.strip()[-200:])
        self.inst.sh("rm -f /etc/ec2-netgen/ec2-netgen.conf && systemctl daemon-reload")

    def imds_over_ipv6(self):
        """The refresh unit, sandboxed as shipped (IPAddressAllow=169.254.169.254
        fd00:ec2::254), told to use the IPv6 endpoint, reads IMDS at [fd00:ec2::254]."""
        label = "%s: the sandboxed refresh unit reads IMDS over IPv6 ([IMDS] EndpointMode=IPv6)" % self.label
        before = self.vpc.imds_families().get("ipv6", 0)
        self.inst.sh("mkdir -p /etc/ec2-netgen && printf '[IMDS]\\nEndpointMode=IPv6\\n' > /etc/ec2-netgen/ec2-netgen.conf")
        code, _, err = self.inst.sh("systemctl start ec2-netgen-refresh.service", check=False, timeout=120)
        result = self.inst.out("systemctl show -p Result --value ec2-netgen-refresh.service").strip()
        ipv6 = self.vpc.imds_families().get("ipv6", 0) - before
        journal = "" if code == 0 else self.inst.out("journalctl -u ec2-netgen-refresh.service -n 8 --no-pager -o cat; "
                                                      "ip -6 route get fd00:ec2::254; ip -6 addr show scope global")
        check(label, code == 0 and result == "success" and ipv6 > 0,
              "exit %d, Result=%s, %d requests over IPv6 %s %s" % (code, result, ipv6, err.strip()[-200:], journal[-1500:]))
        self.inst.sh("rm -f /etc/ec2-netgen/ec2-netgen.conf")

    def reboot_without_imds(self):
        label = "%s: reboot with IMDS unreachable" % self.label
        self.block_imds(True)
        # Every ENI's port: a reply from the second ENI's address that leaves through the
        # primary is dropped there.
        drops_before = sum(self.vpc.drops().values())
        flows_before = self.vpc.dropped_flows()
        pinger = subprocess.Popen(["ip", "netns", "exec", self.vpc.ns("r1"), "ping", "-n", "-q", "-i", "0.2", "-w", "90", SECOND.ipv4s[1]],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.vpc.pids.append(pinger)
        try:
            self.inst.reboot()
            booted = self.inst.booted_after
            # Rendered from the cache, before networkd started (the guest agent can answer
            # before networkd has started at all: wait for it to have a start time).
            self.inst.wait_guest("test \"$(systemctl show -p ExecMainStartTimestampMonotonic --value systemd-networkd.service)\" != 0",
                                 60, "systemd-networkd started")
            times = self.inst.out("systemctl show -p ExecMainExitTimestampMonotonic -p Result ec2-netgen-boot.service; "
                                  "systemctl show -p ExecMainStartTimestampMonotonic systemd-networkd.service")
            values = dict(line.split("=", 1) for line in times.splitlines() if "=" in line)
            before = 0 < int(values.get("ExecMainExitTimestampMonotonic", "0") or 0) < int(values.get("ExecMainStartTimestampMonotonic", "0") or 0)
            check("%s: ec2-netgen-boot.service renders from the cache before networkd starts" % label,
                  before and values.get("Result") == "success", str(values))
            # The boot completes although every ec2-netgen@ unit still waits for IMDS.
            state = ""
            deadline = time.time() + 60
            while time.time() < deadline:
                state = self.inst.out("systemctl is-system-running").strip()
                if state not in ("starting", "initializing"):
                    break
                time.sleep(1)
            failed = self.inst.out("systemctl --failed --plain --no-legend") if state != "running" else ""
            check("%s: the boot completes (is-system-running: running) while the ENIs wait for IMDS" % label,
                  state == "running", "%s after %.0f s; failed units: %s" % (state, booted, failed.strip() or "none"))
            problems = [p for p in (self.link_file_applied(e) for e in (PRIMARY, SECOND)) if p]
            check("%s: every ENI present at boot has ec2-netgen's .link applied" % label, not problems, "; ".join(problems))
            bad = self.replies([("r2", PRIMARY.ipv4s[1]), ("r1", SECOND.ipv4s[1]), ("r1", "10.0.2.22")], count=2)
            detail = str(bad)
            if bad:
                # What the instance had at that moment, for the cause: its tables, addresses
                # and networkd's DHCP log since boot (seconds of uptime).
                detail += "\n" + self.inst.out("cut -d' ' -f1 /proc/uptime; ip -4 rule; ip -4 route show table 10000; "
                                                "ip -4 route show table 10001; ip -4 -br addr; journalctl -b -o short-monotonic "
                                                "-u systemd-networkd --no-pager | grep -i -E 'dhcp|gained|configured' | tail -15")
            check("%s: the cached routing answers from every address" % label, not bad, detail, key="cached-replies")
            # Each ec2-netgen@ unit gives up on IMDS (its deadline) and keeps the cache: active, not failed.
            names = self.links()
            units = {}
            deadline = time.time() + 150
            while time.time() < deadline:
                units = {n: self.unit_state("ec2-netgen@%s.service" % n) for n in (names[PRIMARY.name], names[SECOND.name])}
                if all(u.get("SubState") == "exited" or u.get("ActiveState") == "failed" for u in units.values()):
                    break
                time.sleep(2)
            check("%s: each ec2-netgen@ unit ends active on the cached configuration, not failed" % label,
                  all(u.get("ActiveState") == "active" and u.get("SubState") == "exited" for u in units.values()), str(units))
        finally:
            self.block_imds(False)
        out = pinger.communicate(timeout=120)[0]
        self.vpc.pids.remove(pinger)
        drops = sum(self.vpc.drops().values()) - drops_before
        check("%s: a host pinging the secondary ENI across the boot never sees a reply dropped by the source/destination check"
              % label, drops == 0, "%d dropped %s; %s" % (drops, self.vpc.flows_since(flows_before), out.strip()[-160:]))

    def units_end_clean(self):
        label = "%s: units" % self.label
        # IMDS answers again: one refresh picks everything up.
        self.inst.sh("systemctl start ec2-netgen-refresh.service", check=False, timeout=120)
        units = {u: self.unit_state(u) for u in self.ec2netgen_units()}
        bad = {u: s for u, s in units.items()
               if not (s.get("ActiveState") == "active" or (s.get("ActiveState") == "inactive" and s.get("SubState") == "dead"))}
        failed = self.inst.out("systemctl --failed --plain --no-legend")
        check("%s: every ec2-netgen unit is active or inactive (dead); systemctl --failed is empty" % label,
              units and not bad and not failed.strip(), "%s %s" % (bad, failed.strip()))

    def switched_off(self, what, vendor="Amazon EC2", cmdline=""):
        label = "%s: %s" % (self.label, what)
        self.inst.stop()
        self.inst.start([PRIMARY, SECOND], vendor=vendor, cmdline=cmdline)
        name = None
        try:
            name = self.inst.link_name(PRIMARY.mac)
            self.inst.wait_guest("ip -4 -o addr show dev %s | grep -q ' %s/'" % (name, PRIMARY.ipv4s[0]), 60, "DHCP on %s" % name)
            dhcp = True
        except RuntimeError:
            dhcp = False
        time.sleep(3)
        loads = {u: self.unit_state(u).get("LoadState") for u in
                 ["ec2-netgen-boot.service", "ec2-netgen-refresh.timer", "ec2-netgen-refresh.service", "ec2-netgen@%s.service" % name]}
        written = self.inst.out("ls /run/systemd/network | grep -c '^05-ec2-netgen' ; ip rule | grep -c 'lookup 1[0-9][0-9][0-9][0-9]'")
        check("%s: every ec2-netgen unit is masked" % label, all(v == "masked" for v in loads.values()), str(loads))
        check("%s: nothing is written, no rule installed" % label, written.split() == ["0", "0"], written.replace("\n", " "))
        check("%s: the default .network still gives DHCP" % label, dhcp)

    def remove_package(self):
        label = "%s: dpkg -r" % self.label
        self.inst.stop()
        self.inst.start([PRIMARY, SECOND])
        self.wait_configured(PRIMARY, 120)
        code, out, err = self.inst.sh("dpkg -r ec2-netgen", check=False)
        check("%s: removes the package" % label, code == 0, (out + err)[-300:])
        self.inst.reboot()
        leftovers = self.inst.out(
            "systemctl list-unit-files --no-legend 'ec2-netgen*'; systemctl list-units --all --no-legend --plain 'ec2-netgen*'; "
            "ls /run/systemd/network /run/systemd/generator* /etc/systemd /usr/lib/systemd /usr/lib/udev/rules.d 2>/dev/null | grep -i ec2-netgen; "
            "ip rule | grep -E 'lookup 1[0-9]{4}'; ls /usr/bin/ec2-netgen* /etc/cloud/cloud.cfg.d/90_ec2-netgen.cfg 2>/dev/null")
        check("%s: after the next boot no ec2-netgen unit, rule or file is left" % label, not leftovers.strip(), leftovers.strip())
        state = self.inst.out("ls -d /var/lib/ec2-netgen 2>/dev/null; dpkg --purge ec2-netgen >/dev/null 2>&1; ls -d /var/lib/ec2-netgen 2>/dev/null")
        check("%s: the metadata cache stays until dpkg --purge, which removes it" % label,
              state.split() == ["/var/lib/ec2-netgen"], state.replace("\n", " "))
        self.inst.stop()

    def shell(self):
        self.inst.start([PRIMARY, SECOND])
        print("VM %s is up. Serial console:  socat -,raw,echo=0 unix-connect:%s/serial.sock\n"
              "Guest agent socket: %s/qga.sock; VPC namespaces: %s-*. Press Enter to stop and clean up."
              % (self.label, self.inst.work, self.inst.work, self.vpc.id), flush=True)
        try:
            input()
        except EOFError:
            pass
        self.inst.stop()

    def cleanup(self):
        if self.inst:
            try:
                self.inst.stop()
            except Exception as error:  # cleanup goes on
                print("     cleanup: %s" % error)
        self.vpc.cleanup()


def main():
    image, deb = sys.argv[1], sys.argv[2]
    global SUITE
    SUITE = "vm/" + os.path.basename(image.rstrip("/")).rsplit("-", 1)[0]
    label = os.path.basename(image.rstrip("/")).split("-")[0]
    versions = open(os.path.join(image, "versions")).read().split()
    label = "%s (systemd %s)" % (label, versions[versions.index("systemd") + 1].split(".")[0])
    # An image with systemd-imds runs the life cycle in one of systemd's IMDS network
    # modes (--imds-mode; locked by default, the mode ec2-netgen must not weaken); the
    # suite of another mode than locked is named after it (vm/sid-unlocked).
    imds_mode = None
    if "systemd-imds" in versions:
        imds_mode = sys.argv[sys.argv.index("--imds-mode") + 1] if "--imds-mode" in sys.argv else "locked"
        if imds_mode not in ("locked", "unlocked", "off"):
            raise SystemExit("--imds-mode: %s is not locked, unlocked or off" % imds_mode)
        if imds_mode != "locked":
            SUITE += "-" + imds_mode
        label += " IMDS %s" % imds_mode
    elif "--imds-mode" in sys.argv:
        raise SystemExit("--imds-mode: %s has no systemd-imds" % image)
    KNOWN.update(known_failures.load(SUITE))
    if "cloud-init" in versions:
        # A cloud image: cloud-init and netplan beside ec2-netgen (Tests/vm/cloud.py).
        sys.modules.setdefault("scenarios", sys.modules[__name__])  # cloud.py shares this module's results
        from cloud import CloudSuite
        label = "%s cloud-init %s" % (label.replace("-cloud", ""), versions[versions.index("cloud-init") + 1].split("-")[0])
        suite = CloudSuite(image, deb, label, sys.argv[sys.argv.index("--previous") + 1])
    else:
        suite = Suite(image, deb, label, imds_mode)
    try:
        suite.run(shell="--shell" in sys.argv)
    except Exception as error:
        check("%s: the suite ran to its end" % label, False, "%s: %s" % (type(error).__name__, error))
        if suite.inst:
            tail = suite.inst.serial()[-1500:]
            print("     serial console (tail):\n" + "\n".join("       " + l for l in tail.splitlines()))
    finally:
        suite.cleanup()
    # Nothing of this run may survive it: no namespace (the taps lived in one), no process.
    left = [n for n in run(["ip", "netns", "list"], check=False).stdout.split() if n.startswith(suite.vpc.id)]
    procs = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if suite.vpc.work.encode() in f.read():
                    procs.append(pid)
        except OSError:
            pass
    check("%s: nothing left behind (namespaces, taps, QEMU, helpers, work files)" % label,
          not left and not procs and not os.path.exists(suite.vpc.work) or os.environ.get("KEEP_WORK") == "1" and not left and not procs,
          "namespaces %s, processes %s" % (left, procs))
    for line in numbers:
        info("number: " + line)
    print("%d passed, %d failed" % (results.count(True), results.count(False)), flush=True)
    sys.exit(0 if results and all(results) else 1)


if __name__ == "__main__":
    main()
