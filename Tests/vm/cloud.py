"""ec2-netgen on a Debian EC2 cloud image (Tests/vm/image *-cloud): cloud-init with its real
EC2 datasource reading the VPC's IMDS, netplan, systemd-resolved. The life cycle an
operator goes through there, each check a named line:

- cloud-init alone renders the NICs (the baseline a user compares us with);
- `apt install ./ec2-netgen_*.deb` on the running instance takes over at once, with a
  remote host pinging every address the whole time;
- a hot attach (cloud-init's hotplug hook and ec2-netgen both listening) and a detach,
  pinging the ENIs already up;
- an ENI left alone (`Managed=no`) gets nothing from netplan either, after a reboot;
- a new instance-id makes cloud-init render again: the first boot of an image with
  ec2-netgen in it, pinged across the boot.

Run by scenarios.py for an image that has cloud-init.
"""
import json, os, re, signal, subprocess, time

from scenarios import PRIMARY, SECOND, HOTPLUG, RULE_PATH, VIRTIO_RULE, Suite, check, info, mac_file, numbers  # noqa: F401
from vm import ENI  # noqa: E402

# Test-only, like VIRTIO_RULE for ec2-netgen: cloud-init's hotplug rule (written by
# cloud-init at an instance's first boot) runs its hook only for EC2's NIC drivers; the
# guest's virtio NICs are added to that list, nothing else changes.
CLOUD_INIT_HOTPLUG_RULE = "/etc/udev/rules.d/90-cloud-init-hook-hotplug.rules"
CLOUD_INIT_LOG = "/var/log/cloud-init.log"


# The second ENI of an instance launched from the AMI (new_instance): the same subnet and
# device number as SECOND, another MAC and other addresses.
LAUNCHED_SECOND = ENI("e4", "02:00:00:00:01:05", 2, 1, ["10.0.2.40", "10.0.2.41"], interface_id="eni-00000000000abce01")
# How long new_instance's pingers may run: longer than a first boot of the cloud image
# under TCG to every address answering; they are stopped once the checks are done.
NEW_INSTANCE_PINGS = 400


class Pingers:
    """One ping per (host, address) every `interval` s for `seconds`, all at once, each with
    a fixed count so that no reply still in flight is counted as lost at the end."""

    def __init__(self, vpc, pairs, seconds, interval=0.2):
        self.vpc, self.pairs = vpc, pairs
        count = int(seconds / interval)
        self.procs = []
        for role, address in pairs:
            proc = subprocess.Popen(["ip", "netns", "exec", vpc.ns(role), "ping", "-n", "-q", "-i", str(interval), "-c", str(count),
                                     "-W", "2", address], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            vpc.pids.append(proc)
            self.procs.append(proc)
        self.deadline = time.time() + seconds + 10

    def stop(self):
        """Ends every pinger now (SIGINT: ping prints its summary and exits)."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in self.procs:
            try:
                proc.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
            if proc in self.vpc.pids:
                self.vpc.pids.remove(proc)

    def lost(self):
        """{"host->address": lost replies} for every pair that lost one (-1: no summary)."""
        bad = {}
        for (role, address), proc in zip(self.pairs, self.procs):
            try:
                out = proc.communicate(timeout=max(5, self.deadline - time.time()))[0]
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGINT)
                out = proc.communicate(timeout=10)[0]
            self.vpc.pids.remove(proc)
            match = re.search(r"(\d+) packets transmitted, (\d+) received", out)
            lost = int(match.group(1)) - int(match.group(2)) if match else -1
            if lost:
                bad["%s->%s" % (role, address)] = lost
        return bad


# Test-only for amazon-ec2-net-utils: its udev rule's three lines with virtio_net as the
# driver (doing nothing once the package is gone), and its catch-all matching virtio_net
# through a drop-in. The suite's own files are named 98-test-*/50-test-*.
PEER_RULE = "/etc/udev/rules.d/98-test-virtio-peer.rules"
PEER_DROPIN = "/etc/systemd/network/80-ec2.network.d/50-test-virtio.conf"


class CloudSuite(Suite):
    def __init__(self, image, deb, label, previous):
        Suite.__init__(self, image, deb, label)
        self.previous = previous  # the previous release's .deb, for the upgrade

    def every_address(self, enis):
        """(host, address) pairs: each IPv4 address from a host in another subnet and from
        the internet, each IPv6 address from the internet."""
        pairs = []
        for eni in enis:
            other = "r2" if eni.subnet == 1 else "r1"
            pairs += [(other, a) for a in eni.ipv4s] + [("inet", a) for a in eni.ipv4s + eni.ipv6s]
        return pairs

    def foreign_routing(self):
        """cloud-init's policy routing left in the kernel: rules below ec2-netgen's bands
        (other than the kernel's own at 0) and routes in tables 100-199."""
        found = []
        for family in ("-4", "-6"):
            for line in self.inst.out("ip %s rule show" % family).splitlines():
                priority = int(line.split(":")[0])
                if 0 < priority < 10000:
                    found.append(line.strip())
            for table in range(100, 110):
                routes = self.inst.out("ip %s route show table %d 2>/dev/null" % (family, table)).strip()
                if routes:
                    found.append("table %d: %s" % (table, routes.replace("\n", "; ")))
        return found

    def answering(self, label, pairs):
        """The pairs that answer now, printing the others: cloud-init 22.4's rendering
        (Debian 12) has no policy routing, so replies from the second ENI to another
        subnet are dropped before ec2-netgen comes; a reply lost at a switch is counted
        only where there was one to lose, and every pair must answer after it."""
        bad = self.replies(pairs)
        info("%s: before, %s" % (label, "every address answers" if not bad else "not answering: %s" % bad))
        failing = set(b.split()[0] for b in bad)
        return [p for p in pairs if "%s->%s" % p not in failing]

    def foreign_addresses(self, enis=(PRIMARY, SECOND)):
        """Global addresses on the ENIs that networkd did not configure (ConfigSource
        "foreign" in `networkctl --json=short status`), or None when it says nothing."""
        out = self.inst.out("networkctl --json=short status")
        try:
            interfaces = json.loads(out).get("Interfaces", [])
        except ValueError:
            return None
        found, sources = [], []
        for interface in interfaces:
            if interface.get("Type") != "ether":
                continue
            for address in interface.get("Addresses", []):
                if address.get("Scope") != 0:
                    continue
                sources.append(address.get("ConfigSource"))
                if address.get("ConfigSource") in ("foreign", None):
                    found.append("%s %s (%s)" % (interface.get("Name"), address.get("Address"), address.get("ConfigSource")))
        # Every address of the ENIs must be listed, else the check proves nothing.
        expected = sum(len(eni.ipv4s) + len(eni.ipv6s) for eni in enis)
        if len(sources) < expected:
            found.append("networkd lists %d global addresses, %d expected: %s" % (len(sources), expected, sources))
        return found

    def hotplug_query(self):
        return self.inst.out("cloud-init devel hotplug-hook -s net query 2>/dev/null", timeout=180).strip()

    def mark_virtio(self):
        """The test-only rules: ec2-netgen's and cloud-init's hotplug rule treat virtio as EC2."""
        self.inst.sh("printf '%%s\\n' '%s' > %s; "
                     "if [ -f %s ]; then sed -i 's/==\"vif|ena|ixgbevf\"/==\"vif|ena|ixgbevf|virtio_net\"/' %s; fi; "
                     "udevadm control --reload" % (VIRTIO_RULE, RULE_PATH, CLOUD_INIT_HOTPLUG_RULE, CLOUD_INIT_HOTPLUG_RULE))

    def cloud_init_done(self, label):
        """cloud-init finished without an error, on the datasource ds-identify chose from
        the DMI (its /run/cloud-init/cloud.cfg), having read the metadata service."""
        code, out, err = self.inst.sh("cloud-init status --wait --long", check=False, timeout=420)
        found = self.inst.out("cat /run/cloud-init/cloud.cfg 2>/dev/null; grep -c 'Using metadata source' %s" % CLOUD_INIT_LOG)
        check("%s: cloud-init ran its EC2 datasource (ds-identify chose Ec2, IMDS read, status done, no error)" % label,
              code == 0 and "status: done" in out and "DataSourceEc2" in out and re.search(r"datasource_list: \[ ?Ec2", found)
              and found.strip().split("\n")[-1] not in ("", "0"),
              (out + err).strip()[-400:] + " / " + found.strip()[-200:])
        return out

    # -- the life cycle ----------------------------------------------------------------
    def run(self, shell=False):
        self.vpc.setup([PRIMARY, SECOND], PRIMARY)
        self.inst = Instance(self.vpc, self.image, "i-" + self.label.split()[0])
        self.pkg = self.package_disk()
        if shell:
            return self.shell()
        self.cloud_init_alone()
        self.apt_install()
        self.attach_detach_cloud()
        self.left_alone()
        self.new_instance()
        self.inst.stop()
        self.replace_second(LAUNCHED_SECOND, SECOND)
        # A second instance of the same image: the switch from Debian's
        # amazon-ec2-net-utils by apt, then the upgrade from the previous release.
        self.inst = Instance(self.vpc, self.image, "i2-" + self.label.split()[0])
        self.vpc.instance_id = "i-0aaaabbbbccccdddd"
        self.vpc.publish(self.vpc.metadata())
        self.pkg = self.package_disk()
        self.switch_from_peer()
        self.upgrade()
        self.inst.stop()

    def package_disk(self):
        pkg = os.path.join(self.inst.work, "pkg")
        os.makedirs(pkg, exist_ok=True)
        subprocess.run(["cp", self.deb, os.path.join(pkg, "ec2-netgen.deb")], check=True)
        subprocess.run(["cp", self.previous, os.path.join(pkg, "ec2-netgen-previous.deb")], check=True)
        image = os.path.join(self.inst.work, "pkg.img")
        run(["mkfs.ext4", "-q", "-F", "-d", pkg, image, "%dM" % (2 * os.path.getsize(self.deb) // (1 << 20) + 16)])
        return image

    def cloud_init_alone(self):
        label = "%s: cloud-init alone, first boot" % self.label
        self.inst.start([PRIMARY, SECOND], extra_disk=self.pkg)
        info("%s: boot to guest agent %.1f s (TCG)" % (self.label, self.inst.booted_after))
        self.cloud_init_done(label)
        info("%s: slowest units of the first boot: %s" % (label, " | ".join(
            " ".join(l.split()) for l in self.inst.out("systemd-analyze blame --no-pager 2>&1 | head -6").splitlines())))
        yaml = self.inst.out("cat /etc/netplan/50-cloud-init.yaml")
        check("%s: cloud-init rendered both NICs for netplan (/etc/netplan/50-cloud-init.yaml)" % label,
              PRIMARY.mac in yaml and SECOND.mac in yaml, yaml[-400:])
        self.inst.wait_guest("ip -4 -o addr show | grep -q ' %s/'" % SECOND.ipv4s[1], 120, "netplan's addresses on the second NIC")
        info("%s: rules %s" % (label, " | ".join(l.strip() for l in self.inst.out("ip rule show").splitlines())))
        bad = self.replies([("r1", a) for a in SECOND.ipv4s])
        info("%s: replies from the second NIC's addresses to its own subnet: %s" % (label, "all" if not bad else bad))
        self.mark_virtio()

    def apt_install(self):
        label = "%s: apt install on the running instance" % self.label
        before = self.hotplug_query()
        cursor = self.inst.out("journalctl -n 1 -o cat --show-cursor --no-pager").strip().split("-- cursor: ")[-1]
        pingers = Pingers(self.vpc, self.answering(label, self.every_address([PRIMARY, SECOND])), seconds=75)
        started = time.time()
        code, out, err = self.inst.sh("mkdir -p /mnt/pkg && mount -o ro /dev/vdb /mnt/pkg && "
                                      "apt-get install -y /mnt/pkg/ec2-netgen.deb", check=False, timeout=300)
        check("%s: apt-get install ./ec2-netgen.deb succeeds offline" % label, code == 0, (out + err)[-400:])
        try:
            for eni in (PRIMARY, SECOND):
                self.wait_configured(eni, 60)
            took = time.time() - started
            timer = self.inst.out("systemctl is-active ec2-netgen-refresh.timer").strip()
            check("%s: takes over at once: ec2-netgen's files and tables for both ENIs, the refresh timer active" % label,
                  timer == "active", "timer %s" % timer)
            numbers.append("%s: apt-get install -> both ENIs configured %.1f s" % (label, took))
        except RuntimeError as error:
            check("%s: takes over at once: ec2-netgen's files and tables for both ENIs, the refresh timer active" % label,
                  False, str(error))
        lost = pingers.lost()
        check("%s: no reply lost from any address that answered before (IPv4 and IPv6, every 200 ms) during the switch" % label,
              not lost, str(lost), key="install-replies")
        bad = self.replies(self.every_address([PRIMARY, SECOND]))
        check("%s: right after the switch every address answers" % label, not bad, str(bad))
        if lost:  # the evidence, printed: what networkd and ec2-netgen did meanwhile
            journal = self.inst.out("journalctl --no-pager -o short-precise --after-cursor='%s' -u systemd-networkd "
                                    "-u 'ec2-netgen*' | grep -v 'Could not set hostname' | head -40" % cursor)
            for line in journal.splitlines():
                info("%s: journal: %s" % (label, line[16:]))
        left = self.foreign_routing()
        check("%s: no rule below ec2-netgen's bands and no cloud-init table left on the ENIs it manages" % label, not left,
              "; ".join(left))
        after = self.hotplug_query()
        # Before: "enabled" from cloud-init 24.1 (EC2's default events), "disabled" before it.
        check("%s: cloud-init's network hotplug is off with the package's cloud.cfg.d file (was %s)" % (label, before or "?"),
              after == "disabled" and before in ("enabled", "disabled"), "before %r, after %r" % (before, after))
        code, out, _ = self.inst.sh("ec2-netgen status", check=False, timeout=60)
        check("%s: ec2-netgen status is clean" % label, code == 0, out[-400:])

    def attach_detach_cloud(self):
        label = "%s: hot attach with cloud-init's hotplug hook installed" % self.label
        eni = HOTPLUG
        applies = self.inst.out("grep -c \"'netplan', 'apply'\" %s || true" % CLOUD_INIT_LOG).strip()
        pingers = Pingers(self.vpc, self.every_address([PRIMARY, SECOND]), seconds=40)
        added, _, first = self.attach(eni)
        check("%s: the new ENI's secondary address answers" % label, first is not None, "no reply within 120 s")
        if first:
            numbers.append("%s: device_add -> first reply %.1f s" % (label, first - added))
        lost = pingers.lost()
        check("%s: no reply lost from the ENIs already up (IPv4 and IPv6, every 200 ms)" % label, not lost, str(lost))
        time.sleep(2)
        hook = self.inst.out("journalctl -b --no-pager -o cat -u cloud-init-hotplugd.service | tail -5")
        now = self.inst.out("grep -c \"'netplan', 'apply'\" %s || true" % CLOUD_INIT_LOG).strip()
        check("%s: cloud-init's hook did not run `netplan apply`" % label, now == applies, "%s -> %s; %s" % (applies, now, hook[-300:]))
        left = self.foreign_routing()
        check("%s: no cloud-init rule or table after the attach" % label, not left, "; ".join(left))
        self.detach(eni, 1, self.inst.link_name(eni.mac))

    def switch_from_peer(self):
        """Debian's amazon-ec2-net-utils installed with apt on the cloud image and routing
        (a boot with it), then `apt-get install ./ec2-netgen.deb` replaces it, pinged."""
        label = "%s: the switch from amazon-ec2-net-utils by apt" % self.label
        self.inst.start([PRIMARY, SECOND], extra_disk=self.pkg)
        self.cloud_init_done("%s (second instance)" % self.label)
        self.mark_virtio()
        code, out, err = self.inst.sh("apt-get install -y /opt/peer-debs/*.deb", check=False, timeout=300)
        check("%s: apt-get installs Debian's amazon-ec2-net-utils" % label, code == 0, (out + err)[-300:])
        peer_rule = self.inst.out("sed 's/==\"vif|ena|ixgbevf\"/==\"virtio_net\"/; s/^SUBSYSTEM/TEST==\"\\/usr\\/bin\\/setup-policy-routes\", SUBSYSTEM/' "
                                  "/usr/lib/udev/rules.d/99-vpc-policy-routes.rules")
        self.inst.sh("cat > %s <<'EOF'\n%sEOF\nmkdir -p %s && printf '[Match]\\nDriver=virtio_net\\n' > %s"
                     % (PEER_RULE, peer_rule, os.path.dirname(PEER_DROPIN), PEER_DROPIN))
        self.inst.reboot()
        self.inst.wait_guest("systemctl is-active -q policy-routes@$(ls /sys/class/net | grep -m1 enp2).service", 150,
                             "amazon-ec2-net-utils' policy-routes@ on the second NIC")
        time.sleep(10)
        rules = self.inst.out("ip rule show")
        files = self.inst.out("ls /run/systemd/network; networkctl --no-pager --no-legend list")
        info("%s: with amazon-ec2-net-utils: rules %s" % (label, " | ".join(l.strip() for l in rules.splitlines())))
        info("%s: with amazon-ec2-net-utils: files and links %s" % (label, files.replace("\n", " ")))
        # Debian's amazon-ec2-net-utils writes 70- files, which netplan's 10- files beat:
        # on a cloud image it routes only what cloud-init's own rendering routes. The pings
        # across the switch go to what answered before it; everything must answer after.
        pairs = self.every_address([PRIMARY, SECOND])
        pingers = Pingers(self.vpc, self.answering(label, pairs), seconds=75)
        code, out, err = self.inst.sh("mkdir -p /mnt/pkg && mount -o ro /dev/vdb /mnt/pkg && "
                                      "apt-get install -y /mnt/pkg/ec2-netgen.deb", check=False, timeout=300)
        check("%s: apt-get install ./ec2-netgen.deb removes amazon-ec2-net-utils in the same step" % label,
              code == 0 and "Removing amazon-ec2-net-utils" in out, (out + err)[-500:])
        try:
            for eni in (PRIMARY, SECOND):
                self.wait_configured(eni, 60)
            ok, detail = True, ""
        except RuntimeError as error:
            ok, detail = False, str(error)
        check("%s: ec2-netgen takes over both ENIs at once" % label, ok, detail)
        lost = pingers.lost()
        check("%s: no reply lost from any address that answered before (IPv4 and IPv6, every 200 ms) during the switch" % label,
              not lost, str(lost), key="switch-replies")
        bad = self.replies(pairs)
        check("%s: right after the switch every address answers" % label, not bad, str(bad))
        self.inst.reboot()
        for eni in (PRIMARY, SECOND):
            self.wait_configured(eni, 150)
        leftovers = self.inst.out(
            "systemctl list-units --all --plain --no-legend 'policy-routes@*' 'refresh-policy-routes@*'; "
            "systemctl list-unit-files --no-legend 'policy-routes@*' 'refresh-policy-routes@*'; "
            "ls /usr/bin/setup-policy-routes /usr/lib/systemd/network/80-ec2.network /usr/lib/udev/rules.d/99-vpc-policy-routes.rules "
            "/etc/systemd/system/*.wants/*policy-routes* 2>/dev/null; ls /run/systemd/network | grep -v ec2-netgen | grep '^70-'; "
            "ip rule show | grep -vE '^(0|1[0-9]{4}|2[0-4][0-9]{3}|3276[67]):'")
        check("%s: after the next boot none of the old tool's units, timers, files or rules remain" % label,
              not leftovers.strip(), leftovers.strip()[-500:])
        bad = self.replies(self.every_address([PRIMARY, SECOND]))
        check("%s: after the next boot every address answers" % label, not bad, str(bad))

    def upgrade(self):
        """The previous release installed (apt, over this one) and routing, with a
        configuration file; then `apt-get install ./ec2-netgen.deb`, pinged: nothing lost,
        no duplicate rule, at most one networkd reload, the cache and configuration kept."""
        label = "%s: upgrade from the previous release by apt" % self.label
        self.inst.sh("mkdir -p /mnt/pkg && (mountpoint -q /mnt/pkg || mount -o ro /dev/vdb /mnt/pkg)")
        version = self.inst.out("dpkg-deb -f /mnt/pkg/ec2-netgen-previous.deb Version").strip()
        self.inst.sh("mkdir -p /etc/ec2-netgen && printf '[Refresh]\\nIntervalSec=300\\n' > /etc/ec2-netgen/ec2-netgen.conf")
        code, out, err = self.inst.sh("apt-get install -y --allow-downgrades /mnt/pkg/ec2-netgen-previous.deb", check=False, timeout=300)
        if not check("%s: the previous release (%s) installs" % (label, version), code == 0, (out + err)[-300:]):
            return
        time.sleep(15)
        self.inst.sh("systemctl start ec2-netgen-refresh.service", check=False, timeout=120)
        bad = self.replies(self.every_address([PRIMARY, SECOND]))
        check("%s: the previous release routes every address" % label, not bad, str(bad))
        cache = self.inst.out("sha256sum /var/lib/ec2-netgen/metadata.json").split()[:1]
        cursor = self.inst.out("journalctl -n 1 -o cat --show-cursor --no-pager").strip().split("-- cursor: ")[-1]
        pingers = Pingers(self.vpc, self.every_address([PRIMARY, SECOND]), seconds=60)
        code, out, err = self.inst.sh("apt-get install -y /mnt/pkg/ec2-netgen.deb", check=False, timeout=300)
        check("%s: apt-get install ./ec2-netgen.deb upgrades" % label, code == 0 and "Unpacking ec2-netgen" in out, (out + err)[-300:])
        time.sleep(20)
        lost = pingers.lost()
        check("%s: no reply lost from any address (IPv4 and IPv6, every 200 ms)" % label, not lost, str(lost), key="upgrade-replies")
        rules = [f + " " + l.strip() for f in ("-4", "-6") for l in self.inst.out("ip %s rule show" % f).splitlines()]
        duplicates = sorted(set(r for r in rules if rules.count(r) > 1))
        check("%s: no duplicate rule" % label, not duplicates, str(duplicates))
        reloads = self.inst.out("journalctl --no-pager -o short-precise --after-cursor='%s' | grep 'reloaded  *systemd-networkd'"
                                % cursor).strip().splitlines()
        check("%s: at most one networkd reload" % label, len(reloads) <= 1, "%d reloads: %s" % (len(reloads), reloads))
        kept = self.inst.out("cat /etc/ec2-netgen/ec2-netgen.conf; sha256sum /var/lib/ec2-netgen/metadata.json").split()
        check("%s: the configuration and the metadata cache are kept" % label,
              "IntervalSec=300" in kept and cache and cache[0] in kept, " ".join(kept))
        self.inst.sh("rm -f /etc/ec2-netgen/ec2-netgen.conf")

    def left_alone(self):
        """[Interface] MACAddress=SECOND Managed=no: networkd leaves the link alone (no
        file of netplan's applies: no address, no rule for its addresses), at once on the
        running instance and after a reboot (cloud-init renders again, the primary only)."""
        label = "%s: an ENI left alone (Managed=no)" % self.label
        self.inst.sh("mkdir -p /etc/ec2-netgen && printf '[Interface]\\nMACAddress=%s\\nManaged=no\\n' > "
                     "/etc/ec2-netgen/ec2-netgen.conf && ec2-netgen apply" % SECOND.mac, check=False, timeout=120)
        time.sleep(3)
        problem = self.left_alone_problem()
        check("%s: right after `ec2-netgen apply` on the running instance, networkd leaves the link alone" % label,
              not problem, problem, key="left-alone-at-once")
        self.status_notes_left_alone_file(label, "on the running instance")
        self.inst.reboot()
        self.wait_configured(PRIMARY, 150)
        time.sleep(5)
        problem = self.left_alone_problem()
        check("%s: after a reboot networkd leaves the link alone (ec2-netgen's 79- file): no address, no rule" % label,
              not problem, problem)
        self.status_notes_left_alone_file(label, "after the reboot")
        yaml = self.inst.out("cat /etc/netplan/50-cloud-init.yaml")
        check("%s: cloud-init rendered the primary NIC only" % label, PRIMARY.mac in yaml and SECOND.mac not in yaml, yaml[-300:])
        self.inst.sh("rm -f /etc/ec2-netgen/ec2-netgen.conf && ec2-netgen apply", check=False, timeout=120)
        try:
            self.wait_configured(SECOND, 60)
            back = not self.replies([("r1", a) for a in SECOND.ipv4s])
        except RuntimeError:
            back = False
        check("%s: managed again after the configuration is removed and ec2-netgen applies" % label, back)

    def status_notes_left_alone_file(self, label, when):
        """`ec2-netgen status` names the .network networkd configures the left-alone ENI
        from exactly when networkd says it is not ec2-netgen's 79- file."""
        name = self.inst.link_name(SECOND.mac)
        applied = re.search(r"Network File: (\S+)", self.inst.out("networkctl status --no-pager %s" % name))
        # networkctl shows "n/a" for a link networkd leaves unmanaged.
        applied = applied.group(1) if applied and applied.group(1) != "n/a" else None
        ours = "/run/systemd/network/79-ec2-netgen-%s.network" % SECOND.mac.replace(":", "")
        try:
            notes = json.loads(self.inst.out("ec2-netgen status --json")).get("notes", [])
        except ValueError as error:
            notes = ["status --json did not parse: %s" % error]
        noted = [n for n in notes if "is left alone, and networkd configures it from" in n]
        expected = [] if applied in (None, ours) else [
            "%s (%s) is left alone, and networkd configures it from %s" % (SECOND.mac, name, applied)]
        check("%s: %s, ec2-netgen status notes the file networkd configures the ENI from when it is not ec2-netgen's "
              "(networkd: %s)" % (label, when, applied), noted == expected, "%s / %s" % (noted, notes))

    def left_alone_problem(self):
        name = self.inst.link_name(SECOND.mac)
        status = self.inst.out("networkctl status --no-pager %s" % name)
        addresses = self.inst.out("ip -o addr show dev %s scope global" % name).strip()
        rules = [l.strip() for l in self.inst.out("ip rule show").splitlines() if "10.0.2." in l]
        ours = self.inst.out("ls /run/systemd/network/79-ec2-netgen-%s.network" % SECOND.mac.replace(":", "")).strip()
        state = re.search(r"State: (.*)", status)
        if ours and state and "unmanaged" in state.group(1) and not addresses and not rules:
            return ""
        return "79- file %r; state %s; %s; addresses %r; rules %s" % (
            ours, state.group(1) if state else None, re.search(r"Network File: (\S+)", status).group(0) if "Network File" in status else "",
            addresses, rules)

    def replace_second(self, old, new):
        """The VPC's second ENI swapped, with the guest powered off (an instance launched
        with other ENIs)."""
        self.vpc.unplug(old)
        self.vpc.plug(new)
        self.vpc.write_dnsmasq_hosts()
        self.vpc.write_srcdst()

    def new_instance(self):
        """An instance launched from an AMI made from this one: a new instance-id and a
        second ENI the AMI's cache does not know (its own MAC and addresses), so cloud-init's
        first boot again and ec2-netgen's cache of another instance. Every address is
        pinged from QEMU start: a reply leaving through the wrong ENI at any moment of the
        boot is dropped by the source/destination check and counted."""
        label = "%s: first boot of a new instance with ec2-netgen installed" % self.label
        self.inst.stop()
        self.vpc.instance_id = "i-0fedcba9876543210"
        self.replace_second(SECOND, LAUNCHED_SECOND)
        enis = [PRIMARY, LAUNCHED_SECOND]
        self.vpc.publish(self.vpc.metadata(enis))
        drops_before = sum(self.vpc.drops().values())
        flows_before = self.vpc.dropped_flows()
        pingers = Pingers(self.vpc, self.every_address(enis), NEW_INSTANCE_PINGS)
        self.inst.start(enis)
        t0 = self.inst.started_at
        try:
            for eni in enis:
                self.wait_configured(eni, 180)
            numbers.append("%s: QEMU start -> ec2-netgen's tables for 2 ENIs %.1f s" % (label, time.time() - t0))
        except RuntimeError as error:
            check("%s: ec2-netgen configures both ENIs" % label, False, str(error))
            pingers.stop()
            return
        out = self.cloud_init_done(label)
        instance = self.inst.out("cat /var/lib/cloud/data/instance-id").strip()
        yaml = self.inst.out("cat /etc/netplan/50-cloud-init.yaml")
        check("%s: cloud-init rendered again for the new instance-id, the primary NIC only" % label,
              instance == self.vpc.instance_id and PRIMARY.mac in yaml and LAUNCHED_SECOND.mac not in yaml,
              "%s; %s" % (instance, yaml[-300:]))
        # The primary's file is the cache's (the same ENI): only the new ENI's is new.
        applied = self.inst.out("journalctl -b -o cat --no-pager -u ec2-netgen-cloud-init.service").strip()
        check("%s: before networkd started, ec2-netgen-cloud-init.service planned the new ENI from cloud-init's read" % label,
              "ENI %s configured: table 10001" % LAUNCHED_SECOND.interface_id in applied, applied[-400:])
        bad = self.replies(self.every_address(enis))
        pingers.stop()
        drops = sum(self.vpc.drops().values()) - drops_before
        check("%s: every address answers, no reply dropped by the source/destination check across the boot "
              "(every address pinged every 200 ms from QEMU start)" % label,
              not bad and drops == 0, "%s; %d dropped %s" % (bad, drops, self.vpc.flows_since(flows_before)))
        left = self.foreign_routing()
        check("%s: no rule below ec2-netgen's bands, no cloud-init table" % label, not left, "; ".join(left))
        # Every global address is networkd's (static from a file, or its own DHCP lease),
        # none a "foreign" one left behind by cloud-init's ephemeral DHCP client with a
        # lifetime nobody renews.
        foreign = self.foreign_addresses(enis)
        clients = self.inst.out("pgrep -a dhcpcd; pgrep -a dhclient").strip()
        check("%s: no address networkd does not own (left by cloud-init's DHCP client), no such client running" % label,
              foreign == [] and not clients, "%s; %s" % (foreign, clients), key="no-foreign-address")
        check("%s: cloud-init's network hotplug stays off" % label, self.hotplug_query() == "disabled")
        del out

from vm import Instance, run  # noqa: E402
