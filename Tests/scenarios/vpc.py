"""A VPC in network namespaces, with a real systemd-networkd instance (docs/design.md).

Namespaces (all named <run id>-<role>, so two runs never collide):
  vpc   the VPC router: one bridge per subnet with the gateway at .1, forwarding, dnsmasq
        (DHCPv4, DHCPv6 and RA, static leases by MAC), the stub IMDS on
        169.254.169.254:80, and the source/destination check in nftables (bridge family:
        a frame entering from ENI k's port whose source is not one of ENI k's addresses is
        dropped and counted), and EC2's link-local budget: packets from ENI k's port to
        IMDS (169.254.169.254, fd00:ec2::254) policed at 1024/s with a burst of 50 per
        port, counted and the excess dropped and counted.
  inst  the instance: veth "ENIs" with fixed MACs; systemd-networkd runs there in a
        private mount namespace (its /run and /var/lib are directories of this run, /sys
        read-only) with a private dbus-daemon. ec2-netgen runs inside the same namespaces,
        exactly as its units would.
  r1/r2/r4 remote hosts in subnets 1, 2 and 4 (IPv6-only); inet: an "internet" host
        behind the router.
Every process started here is killed by PID and every namespace deleted in cleanup(),
also when a scenario fails.
"""
import json, os, re, secrets, shutil, signal, subprocess, sys, tempfile, time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STUB = os.path.join(REPO, "Tests", "stub-imds", "stub_imds.py")

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=/run/dbus/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"""

SUBNETS = {
    1: ("10.0.1", "2001:db8:0:1"),
    2: ("10.0.2", "2001:db8:0:2"),
    3: ("10.0.3", "2001:db8:0:3"),
    # An IPv6-only subnet, as on Nitro: no IPv4 and no DHCPv4; addresses and the DNS
    # server (fd00:ec2::253) come from DHCPv6, the gateway from router advertisements.
    4: (None, "2001:db8:0:4"),
}

# EC2's DHCPv6 lease: renew (T1) 75 s, rebind (T2) 120 s, preferred 150 s, valid 450 s (as
# cloud-init's lease tracker records them on EC2). dnsmasq derives all four from one lease
# time (T1 half of it, T2 seven eighths of it in whole eighths, preferred = valid), so
# 150 s serves EC2's renew and preferred lifetime exactly, the rebind at 126 s instead of
# 120 s, and a valid lifetime of 150 s instead of 450 s: an address that is not renewed
# goes sooner than on EC2, never later.
DHCP6_LEASE = 150

# EC2's link-local services as Nitro serves them over IPv6: IMDS and the DNS resolver.
IMDS_V6, DNS_V6 = "fd00:ec2::254", "fd00:ec2::253"
# A name the VPC's resolver answers (the DNS checks resolve it).
DNS_NAME, DNS_ANSWER = "service.vpc.test", "2001:db8:ffff::10"


def stamp():
    """The wall clock to the millisecond, for the harness log."""
    now = time.time()
    return "%s.%03d" % (time.strftime("%H:%M:%S", time.localtime(now)), int(now * 1000) % 1000)


def run(argv, check=True, timeout=60, **kwargs):
    result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kwargs)
    if check and result.returncode != 0:
        raise RuntimeError("%s failed (%d): %s%s" % (" ".join(argv), result.returncode, result.stdout, result.stderr))
    return result


class ENI:
    def __init__(self, name, mac, subnet, device, ipv4s, ipv6s=(), ipv4_prefixes=(), interface_id=None, card=None):
        self.name, self.mac, self.subnet, self.device, self.card = name, mac, subnet, device, card
        self.ipv4s, self.ipv6s, self.ipv4_prefixes = list(ipv4s), list(ipv6s), list(ipv4_prefixes)
        self.interface_id = interface_id or "eni-0%016x" % (0xabc00 + 100 * (card or 0) + device)
        self.port = "p" + name  # the VPC-side end of the veth, a port of the subnet bridge

    def metadata(self):
        v4, v6 = SUBNETS[self.subnet]
        entry = {"device-number": str(self.device), "interface-id": self.interface_id,
                 "vpc-ipv4-cidr-blocks": "10.0.0.0/16", "mac": self.mac}
        if self.card is not None:  # IMDS lists network-card on instances with several cards
            entry["network-card"] = str(self.card)
        if self.ipv4s:  # an ENI in an IPv6-only subnet has neither key
            entry["local-ipv4s"] = "\n".join(self.ipv4s)
            entry["subnet-ipv4-cidr-block"] = v4 + ".0/24"
        if self.ipv6s:
            entry["ipv6s"] = "\n".join(self.ipv6s)
            entry["subnet-ipv6-cidr-blocks"] = v6 + "::/64"
            entry["vpc-ipv6-cidr-blocks"] = "2001:db8::/56"
        if self.ipv4_prefixes:
            entry["ipv4-prefix"] = "\n".join(self.ipv4_prefixes)
        return entry


class VPC:
    # Remote hosts: r1 and r2 in subnets 1 and 2, r4 in the IPv6-only subnet 4, inet
    # behind the router.
    HOSTS = ["r1", "r2", "r4", "inet"]

    def __init__(self, binary, networkd_tree=None):
        self.binary = binary
        # A Debian tree whose systemd-networkd runs instead of the host's, through chroot
        # (Tests/scenarios/networkd-tree): another systemd version, same scenarios.
        self.networkd_tree = networkd_tree
        self.id = "eng" + secrets.token_hex(3)
        # A new instance-id is a new instance to cloud-init (it renders the network again).
        self.instance_id = "i-0123456789abcdef0"
        self.work = tempfile.mkdtemp(prefix="ec2-netgen-%s-" % self.id)
        self.namespaces = []
        self.pids = []           # every long-running process we started, killed in cleanup
        self.enis = {}
        self.primary = None
        self.holder = None       # PID whose mount+net namespaces are the instance's
        self.networkd = None
        self.stub = None
        self.dnsmasq = None
        self.log = open(os.path.join(self.work, "harness.log"), "w")

    # -- plumbing ---------------------------------------------------------------------
    def ns(self, role):
        return "%s-%s" % (self.id, role)

    def sh(self, role, command, check=True, timeout=60):
        self.log.write("%s [%s] %s\n" % (stamp(), role, command))
        self.log.flush()
        return run(["ip", "netns", "exec", self.ns(role), "sh", "-c", command], check=check, timeout=timeout)

    def spawn(self, argv, log_name):
        out = open(os.path.join(self.work, log_name), "a")
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.pids.append(proc)
        return proc

    def add_namespace(self, role):
        run(["ip", "netns", "add", self.ns(role)])
        self.namespaces.append(self.ns(role))
        self.sh(role, "ip link set lo up")

    # -- the VPC ---------------------------------------------------------------------
    def setup(self, enis, primary):
        self.primary = primary
        for role in ["vpc", "inst"] + self.HOSTS:
            self.add_namespace(role)
        self.setup_without_namespaces(enis)

    def setup_without_namespaces(self, enis):
        """The router, remote hosts, ENI ports, dnsmasq, source/destination check and stub
        IMDS, in namespaces that already exist (the VM suite brings no instance namespace)."""
        self.sh("vpc", "sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1")
        for index, (v4, v6) in SUBNETS.items():
            # A fixed bridge MAC: a Linux bridge otherwise takes its lowest port's MAC, and
            # a port added later would change the gateway's MAC under the instance.
            self.sh("vpc", "ip link add br%d address 02:aa:00:00:00:%02x type bridge && "
                           "ip link set br%d addrgenmode eui64 && %s"
                           "ip addr add %s::1/64 dev br%d nodad && ip link set br%d up"
                    % (index, index, index, ("ip addr add %s.1/24 dev br%d && " % (v4, index)) if v4 else "", v6, index, index))
        self.sh("vpc", "ip addr add 169.254.169.254/32 dev lo && ip addr add %s/128 dev lo && ip addr add %s/128 dev lo"
                % (IMDS_V6, DNS_V6))
        # Remote hosts and the internet host.
        for role, bridge, v4, v6 in [("r1", 1, "10.0.1.50", "2001:db8:0:1::50"), ("r2", 2, "10.0.2.50", "2001:db8:0:2::50")]:
            self.link_host(role, "br%d" % bridge, v4 + "/24", v6 + "/64", "10.0.%d.1" % bridge, "2001:db8:0:%d::1" % bridge)
        self.link_host("r4", "br4", None, "2001:db8:0:4::50/64", None, "2001:db8:0:4::1")
        run(["ip", "link", "add", "inet0", "netns", self.ns("inet"), "type", "veth", "peer", "name", "pinet", "netns", self.ns("vpc")])
        self.sh("vpc", "ip addr add 198.51.100.1/24 dev pinet && ip addr add 2001:db8:ffff::1/64 dev pinet nodad && ip link set pinet up")
        self.sh("inet", "ip addr add 198.51.100.10/24 dev inet0 && ip addr add 2001:db8:ffff::10/64 dev inet0 nodad && "
                        "ip link set inet0 up && ip route add default via 198.51.100.1 && ip -6 route add default via 2001:db8:ffff::1")
        for eni in enis:
            self.plug(eni)
        self.write_dnsmasq_hosts()
        self.start_dnsmasq()
        self.write_srcdst()
        self.start_stub()
        self.start_resolver()

    def link_host(self, role, bridge, v4, v6, gw4, gw6):
        """A remote host on a subnet's bridge; v4 and gw4 are None in the IPv6-only subnet."""
        run(["ip", "link", "add", "eth0", "netns", self.ns(role), "type", "veth", "peer", "name", "p" + role, "netns", self.ns("vpc")])
        self.sh("vpc", "ip link set p%s master %s up" % (role, bridge))
        self.sh(role, "%sip addr add %s dev eth0 nodad && ip link set eth0 up && %sip -6 route add default via %s"
                % ("ip addr add %s dev eth0 && " % v4 if v4 else "", v6, "ip route add default via %s && " % gw4 if gw4 else "", gw6))

    def plug(self, eni):
        """Creates the ENI's veth: the instance end carries the ENI's MAC."""
        self.enis[eni.name] = eni
        run(["ip", "link", "add", eni.name, "address", eni.mac, "netns", self.ns("inst"), "type", "veth",
             "peer", "name", eni.port, "netns", self.ns("vpc")])
        self.sh("vpc", "ip link set %s master br%d up" % (eni.port, eni.subnet))
        self.sh("inst", "ip link set %s up" % eni.name)

    def unplug(self, eni):
        self.sh("inst", "ip link del %s" % eni.name)
        del self.enis[eni.name]

    def write_dnsmasq_hosts(self):
        lines = []
        for eni in self.enis.values():
            if eni.ipv4s:
                lines.append("%s,%s" % (eni.mac, eni.ipv4s[0]))
            if eni.ipv6s:
                lines.append("%s,[%s]" % (eni.mac, eni.ipv6s[0]))
        with open(os.path.join(self.work, "dhcp-hosts"), "w") as f:
            f.write("\n".join(lines) + "\n")
        if self.dnsmasq:
            os.kill(self.dnsmasq.pid, signal.SIGHUP)  # re-reads --dhcp-hostsfile

    def start_dnsmasq(self):
        argv = ["ip", "netns", "exec", self.ns("vpc"), "dnsmasq", "--keep-in-foreground", "--no-daemon", "--conf-file=/dev/null",
                "--no-resolv", "--no-hosts", "--port=0", "--log-dhcp", "--enable-ra", "--bind-interfaces",
                "--dhcp-leasefile=%s" % os.path.join(self.work, "leases"), "--pid-file=",
                "--dhcp-hostsfile=%s" % os.path.join(self.work, "dhcp-hosts"), "--dhcp-option=option:mtu,1500",
                # The VPC's resolver, as AmazonProvidedDNS gives it: over DHCPv6 only. dnsmasq
                # puts the DHCPv6 DNS option into its router advertisements (RDNSS) too, and
                # EC2's carry none: the option is tagged "known" (a DHCPv6 client with a
                # static lease; an RA matches no host), and the empty untagged one stops the
                # RAs from naming dnsmasq itself. Checked with a raw-socket RA capture.
                "--dhcp-option=tag:known,option6:dns-server,[%s]" % DNS_V6, "--dhcp-option=option6:dns-server"]
        for index, (v4, v6) in SUBNETS.items():
            argv += ["--interface=br%d" % index]
            if v4:
                argv += ["--dhcp-range=%s.0,static,255.255.255.0,1h" % v4]
            argv += ["--dhcp-range=%s::,static,64,%d" % (v6, DHCP6_LEASE)]
        self.dnsmasq = self.spawn(argv, "dnsmasq.log")

    def dhcp6_exchanges(self, since=0):
        """The DHCPv6 exchanges dnsmasq answered after byte `since` of its log, in order:
        (what the client sent: SOLICIT, REQUEST, RENEW, REBIND, ...; the address leased;
        T1; T2) per reply; and the log's size."""
        with open(os.path.join(self.work, "dnsmasq.log"), errors="replace") as f:
            f.seek(since)
            text = f.read()
            size = f.tell()
        asked, replies, timers = {}, [], {}
        # --log-dhcp prints "<xid> DHCPRENEW(br4) <client id>", then "<xid> DHCPREPLY(br4)
        # <address> ..." and the options sent, among them "<xid> sent ... ia-na ... T1=.. T2=..".
        for line in text.splitlines():
            match = re.search(r" (\d+) DHCP(SOLICIT|REQUEST|RENEW|REBIND|CONFIRM|INFORMATION-REQUEST)\(", line)
            if match:
                asked[match.group(1)] = match.group(2)
                continue
            match = re.search(r" (\d+) sent size: *\d+ option: *3 ia-na .*T1=(\d+) T2=(\d+)", line)
            if match:
                timers[match.group(1)] = (int(match.group(2)), int(match.group(3)))
                continue
            match = re.search(r" (\d+) DHCPREPLY\(\w+\) ([0-9a-f:]+) ", line)
            if match and match.group(1) in asked:
                replies.append((match.group(1), asked[match.group(1)], match.group(2)))
        return [(kind, address) + timers.get(xid, (None, None)) for xid, kind, address in replies], size

    def block_dhcp6_renew(self, eni, blocked):
        """Drops the DHCPv6 Renew messages (type 5) entering from the ENI's port, so that its
        client rebinds at T2, as when the server that leased an address does not answer."""
        table = "ec2renew_%s" % eni.name
        if blocked:
            self.sh("vpc", "nft add table bridge %s && nft add chain bridge %s pre "
                           "'{ type filter hook prerouting priority -300; }' && nft add rule bridge %s pre "
                           "iifname %s ether type ip6 ip6 nexthdr udp udp dport 547 @th,64,8 5 counter drop"
                           % (table, table, table, eni.port))
        else:
            self.sh("vpc", "nft delete table bridge %s" % table, check=False)

    def start_resolver(self):
        """The VPC's DNS resolver at fd00:ec2::253 (a second dnsmasq, DNS only), answering
        one name; its log counts the queries."""
        argv = ["ip", "netns", "exec", self.ns("vpc"), "dnsmasq", "--keep-in-foreground", "--no-daemon", "--conf-file=/dev/null",
                "--no-resolv", "--no-hosts", "--port=53", "--listen-address=%s" % DNS_V6, "--bind-interfaces", "--pid-file=",
                "--log-queries", "--address=/%s/%s" % (DNS_NAME, DNS_ANSWER)]
        self.resolver = self.spawn(argv, "resolver.log")

    # EC2 caps link-local services (IMDS, DNS, NTP) at 1024 packets/s per ENI.
    IMDS_RATE, IMDS_BURST = 1024, 50
    SEEN_TIMEOUT = 3600  # seconds a dropped packet's record lasts (dropped_packets)

    def write_srcdst(self):
        """The VPC's source/destination check: per ENI port, only its own sources pass.
        Before it, the per-ENI IMDS policer. Each port keeps its own limiter state for the
        table's life; rewriting the table (a new ENI or address) starts every bucket full."""
        rules = ["table bridge ec2srcdst", "delete table bridge ec2srcdst", "table bridge ec2srcdst {",
                 "  chain pre {", "    type filter hook prerouting priority -200; policy accept;"]
        for eni in self.enis.values():
            for family, endpoint in [("ip", "169.254.169.254"), ("ip6", "fd00:ec2::254")]:
                rules.append("    iifname \"%s\" ether type %s %s daddr %s counter name \"imds_%s\" "
                             "limit rate over %d/second burst %d packets counter name \"policed_%s\" drop"
                             % (eni.port, family, family, endpoint, eni.name, self.IMDS_RATE, self.IMDS_BURST, eni.name))
        for eni in self.enis.values():
            v4 = ["0.0.0.0"] + eni.ipv4s + eni.ipv4_prefixes
            v6 = ["::", "fe80::/10"] + eni.ipv6s
            # Each dropped flow (source . destination) is remembered too, so a check can say
            # which reply left through the wrong ENI.
            # And each dropped packet's protocol and ports, with when it was last seen (the
            # set's timeout counts down from the last update), and a TCP segment's flags (a
            # rule of its own that drops nothing), to tell what sent it.
            rules.append("    iifname \"%s\" ether type ip ip saddr != { %s } meta l4proto tcp "
                         "update @tcp4_%s { ip saddr . tcp sport . tcp flags }" % (eni.port, ", ".join(v4), eni.name))
            rules.append("    iifname \"%s\" ether type ip6 ip6 saddr != { %s } meta l4proto tcp "
                         "update @tcp6_%s { ip6 saddr . tcp sport . tcp flags }" % (eni.port, ", ".join(v6), eni.name))
            rules.append("    iifname \"%s\" ether type ip ip saddr != { %s } add @flows4_%s { ip saddr . ip daddr } "
                         "update @seen4_%s { ip saddr . ip daddr . meta l4proto . th sport . th dport } "
                         "counter name \"drop_%s\" drop" % (eni.port, ", ".join(v4), eni.name, eni.name, eni.name))
            rules.append("    iifname \"%s\" ether type ip6 ip6 saddr != { %s } add @flows6_%s { ip6 saddr . ip6 daddr } "
                         "update @seen6_%s { ip6 saddr . ip6 daddr . meta l4proto . th sport . th dport } "
                         "counter name \"drop_%s\" drop" % (eni.port, ", ".join(v6), eni.name, eni.name, eni.name))
        rules += ["  }"]
        for eni in self.enis.values():
            rules.append("  set flows4_%s { type ipv4_addr . ipv4_addr; flags dynamic; size 1024; }" % eni.name)
            rules.append("  set flows6_%s { type ipv6_addr . ipv6_addr; flags dynamic; size 1024; }" % eni.name)
            for family, address in [("4", "ipv4_addr"), ("6", "ipv6_addr")]:
                rules.append("  set seen%s_%s { type %s . %s . inet_proto . inet_service . inet_service; flags dynamic,timeout; "
                             "timeout %ds; size 1024; }" % (family, eni.name, address, address, self.SEEN_TIMEOUT))
                rules.append("  set tcp%s_%s { type %s . inet_service . tcp_flag; flags dynamic,timeout; timeout %ds; size 1024; }"
                             % (family, eni.name, address, self.SEEN_TIMEOUT))
            rules.append("  counter drop_%s { }" % eni.name)
            rules.append("  counter imds_%s { }" % eni.name)
            rules.append("  counter policed_%s { }" % eni.name)
        rules += ["}"]
        path = os.path.join(self.work, "srcdst.nft")
        # Keep counters across rewrites: read them first, since the table is recreated.
        self.drop_base = getattr(self, "drop_base", {})
        for name, value in self.read_counters().items():
            self.drop_base[name] = self.drop_base.get(name, 0) + value
        self.flow_base = self.dropped_flows()
        with open(path, "w") as f:
            f.write("\n".join(rules) + "\n")
        self.sh("vpc", "nft -f %s" % path)

    def read_counters(self):
        result = self.sh("vpc", "nft -j list counters table bridge ec2srcdst", check=False)
        if result.returncode != 0:
            return {}
        counts = {}
        for item in json.loads(result.stdout).get("nftables", []):
            counter = item.get("counter")
            if counter:
                counts[counter["name"]] = counter["packets"]
        return counts

    def counters(self, kind):
        """Counter `kind` ("drop", "imds", "policed") per ENI, since setup."""
        current = self.read_counters()
        base = getattr(self, "drop_base", {})
        prefix = kind + "_"
        names = {n for n in set(current) | set(base) if n.startswith(prefix)}
        return {n[len(prefix):]: current.get(n, 0) + base.get(n, 0) for n in names}

    def drops(self):
        """Packets the source/destination check dropped, per ENI, since setup."""
        return self.counters("drop")

    def set_elements(self, *prefixes):
        """(ENI, element) for every element of the srcdst table's sets named PREFIX_ENI;
        an element is {"val": {"concat": [...]}, "expires": seconds left} when the set has
        a timeout, else the bare {"concat": [...]}."""
        result = self.sh("vpc", "nft -j list sets table bridge ec2srcdst", check=False)
        if result.returncode != 0:
            return
        for item in json.loads(result.stdout).get("nftables", []):
            found = item.get("set")
            if not found or found.get("name", "").split("_", 1)[0] not in prefixes:
                continue
            eni = found["name"].split("_", 1)[1]
            for element in found.get("elem", []):
                if isinstance(element, dict):
                    yield eni, element.get("elem", element)

    def dropped_flows(self):
        """The flows the source/destination check dropped since setup: ENI name -> set of
        "source->destination"."""
        flows = {name: set(seen) for name, seen in getattr(self, "flow_base", {}).items()}
        for eni, element in self.set_elements("flows4", "flows6"):
            pair = element.get("val", element)
            if isinstance(pair, dict) and "concat" in pair:
                flows.setdefault(eni, set()).add("%s->%s" % tuple(pair["concat"]))
        return flows

    def dropped_packets(self, since):
        """The packets the source/destination check dropped since `since` (time.time()),
        as "ENI: source:port -> destination:port protocol at HH:MM:SS" (ICMP's "ports" are
        its type and code, then its checksum), last seen first; only since the table was
        last rewritten, to the second."""
        now = time.time()
        seen = []
        flags = {}
        for eni, element in self.set_elements("tcp4", "tcp6"):
            fields = element.get("val", {}).get("concat") if isinstance(element.get("val"), dict) else None
            if fields and "expires" in element:
                flags.setdefault((eni, str(fields[0]), str(fields[1])), []).append(
                    (now - (self.SEEN_TIMEOUT - element["expires"]), json.dumps(fields[2]).replace('"', "")))
        for eni, element in self.set_elements("seen4", "seen6"):
            fields = element.get("val", {}).get("concat") if isinstance(element.get("val"), dict) else None
            if not fields or "expires" not in element:
                continue
            last = now - (self.SEEN_TIMEOUT - element["expires"])
            if last < since - 1:
                continue
            source, destination, protocol, sport, dport = fields
            segments = ", ".join("%s at %s" % (kind, time.strftime("%H:%M:%S", time.localtime(at)))
                                 for at, kind in sorted(flags.get((eni, str(source), str(sport)), [])))
            seen.append((last, "%s: %s:%s -> %s:%s %s at %s%s" % (eni, source, sport, destination, dport, protocol,
                                                                   time.strftime("%H:%M:%S", time.localtime(last)),
                                                                   " (flags %s)" % segments if segments else "")))
        return [text for _, text in sorted(seen, reverse=True)]

    def flows_since(self, before):
        """The dropped flows not in `before` (an earlier dropped_flows()): ENI -> sorted list."""
        now = self.dropped_flows()
        return {eni: sorted(seen - before.get(eni, set())) for eni, seen in now.items() if seen - before.get(eni, set())}

    def imds_traffic(self):
        """(packets sent to IMDS, packets the policer dropped), summed over the ENIs."""
        return sum(self.counters("imds").values()), sum(self.counters("policed").values())

    # -- IMDS --------------------------------------------------------------------------
    def metadata(self, enis=None, lag=None):
        macs = {}
        for eni in (enis or self.enis.values()):
            entry = eni.metadata()
            if lag and eni.name in lag:
                entry.update(lag[eni.name])
                entry = {k: v for k, v in entry.items() if v is not None}  # None: absent, as IMDS lags
            macs[eni.mac] = entry
        # hostname and local-hostname as EC2 serves them: systemd-imds reads the hostname.
        hostname = "ip-%s.ec2.internal" % (self.primary.ipv4s[0].replace(".", "-") if self.primary.ipv4s else "v6-only")
        identity = {"instanceId": self.instance_id, "region": "us-east-1", "availabilityZone": "us-east-1a",
                    "instanceType": "m5.large", "imageId": "ami-0123456789abcdef0", "accountId": "123456789012",
                    "architecture": "x86_64", "privateIp": self.primary.ipv4s[0] if self.primary.ipv4s else None,
                    "version": "2017-09-30"}
        meta = {"instance-id": self.instance_id, "mac": self.primary.mac, "hostname": hostname, "local-hostname": hostname,
                "ami-id": identity["imageId"], "instance-type": "m5.large",
                "placement": {"availability-zone": "us-east-1a", "region": "us-east-1"},
                "services": {"domain": "amazonaws.com", "partition": "aws"},
                "network": {"interfaces": {"macs": macs}}}
        if self.primary.ipv4s:
            meta["local-ipv4"] = self.primary.ipv4s[0]
        # What cloud-init's EC2 datasource reads besides meta-data: the identity document
        # (user-data is absent: EC2 answers 404).
        return {"meta-data": meta, "dynamic": {"instance-identity": {"document": json.dumps(identity, indent=2)}}}

    def publish(self, document):
        path = os.path.join(self.work, "imds.json")
        with open(path + ".tmp", "w") as f:
            json.dump(document, f)
        os.rename(path + ".tmp", path)

    def set_faults(self, faults):
        path = os.path.join(self.work, "faults.json")
        with open(path + ".tmp", "w") as f:
            json.dump(faults, f)
        os.rename(path + ".tmp", path)

    def start_stub(self):
        self.publish(self.metadata())
        self.set_faults({})
        self.stub = self.spawn(["ip", "netns", "exec", self.ns("vpc"), sys.executable, STUB,
                                "--document", os.path.join(self.work, "imds.json"),
                                "--faults", os.path.join(self.work, "faults.json"),
                                "--listen", "169.254.169.254:80", "--listen", "[%s]:80" % IMDS_V6,
                                "--log", os.path.join(self.work, "imds.log")], "stub.log")

    def imds_families(self):
        """Requests the stub served, per endpoint family ("ipv4", "ipv6")."""
        counts = {}
        try:
            with open(os.path.join(self.work, "imds.log")) as f:
                for line in f:
                    family = json.loads(line).get("family", "ipv4")
                    counts[family] = counts.get(family, 0) + 1
        except FileNotFoundError:
            pass
        return counts

    def imds_requests(self):
        try:
            with open(os.path.join(self.work, "imds.log")) as f:
                return sum(1 for _ in f)
        except FileNotFoundError:
            return 0

    # -- the instance --------------------------------------------------------------------
    def instance_root(self):
        return os.path.join(self.work, "inst")

    def network_dir(self):
        return os.path.join(self.instance_root(), "run", "systemd", "network")

    def boot(self, default_network, drop_in):
        """Starts the instance's private mount namespace, dbus-daemon and networkd."""
        root = self.instance_root()
        for sub in ["run/systemd/network", "run/systemd/networkd.conf.d", "run/dbus", "var/lib/ec2-netgen"]:
            os.makedirs(os.path.join(root, sub), exist_ok=True)
        os.chmod(os.path.join(root, "run"), 0o755)
        # The shipped catch-all under another name: ec2-netgen owns the name
        # 80-ec2-netgen-default.network in /run (its systemd-imds variant) and removes it there.
        with open(os.path.join(root, "run/systemd/network/81-scenario-catch-all.network"), "w") as f:
            f.write(default_network)
        with open(os.path.join(root, "run/systemd/networkd.conf.d/ec2-netgen.conf"), "w") as f:
            f.write(drop_in)
        with open(os.path.join(self.work, "bus.conf"), "w") as f:
            f.write(BUS_CONFIG)
        # The holder: a shell in the instance's namespaces that sets up the mounts and
        # then sleeps; everything else enters its namespaces with nsenter.
        script = ("mount -n --bind %(root)s/run /run && mount -n --bind %(root)s/var/lib/ec2-netgen /var/lib/ec2-netgen 2>/dev/null "
                  "|| { mount -n -t tmpfs tmpfs /var/lib && mkdir -p /var/lib/ec2-netgen && "
                  "mount -n --bind %(root)s/var/lib/ec2-netgen /var/lib/ec2-netgen; }; "
                  "mount -n -o remount,bind,ro /sys && %(tree)secho ready && exec sleep infinity") % {"root": root, "tree": self.tree_mounts()}
        self.holder = self.spawn(["ip", "netns", "exec", self.ns("inst"), "unshare", "-m", "--propagation", "private",
                                  "sh", "-c", script], "holder.log")
        self.wait_for(lambda: "ready" in open(os.path.join(self.work, "holder.log")).read(), 5, "instance mounts")
        # The holder's PID is ip's child chain: find the sleep that is our descendant.
        self.holder_pid = self.find_descendant(self.holder.pid, "sleep")
        self.enter(["sh", "-c", "umask 000; exec dbus-daemon --config-file=%s --nofork --nopidfile"
                          % os.path.join(self.work, "bus.conf")], "dbus.log")
        self.wait_for(lambda: os.path.exists(os.path.join(root, "run/dbus/system_bus_socket")), 5, "private dbus-daemon")
        # Every change of the instance's routes, rules, neighbours and addresses, with the
        # kernel's timestamps, kept with the logs (KEEP_WORK=1): what a lost reply's moment
        # looked like, beyond what networkd logs about its own requests.
        self.enter(["ip", "-ts", "monitor", "route", "rule", "neigh", "nexthop", "address"], "monitor.log")
        self.start_networkd()

    def tree_mounts(self):
        """Shell for the holder: the instance's /run, /sys (read-only), /proc and /dev inside
        the networkd tree, and a private /var/lib/systemd, so the chrooted networkd sees
        the same files, bus and kernel as ec2-netgen does; nothing when the host's runs."""
        if not self.networkd_tree:
            return ""
        tree = self.networkd_tree
        return ("mount -n --bind /run %(t)s/run && mount -n -t proc proc %(t)s/proc && mount -n --bind /dev %(t)s/dev && "
                "mount -n --bind /sys %(t)s/sys && mount -n -o remount,bind,ro %(t)s/sys && "
                "mount -n -t tmpfs tmpfs %(t)s/var/lib/systemd && ") % {"t": tree}

    def start_networkd(self):
        command = ["chroot", self.networkd_tree, "/usr/lib/systemd/systemd-networkd"] if self.networkd_tree \
            else ["/lib/systemd/systemd-networkd"]
        self.networkd = self.enter(["env", "SYSTEMD_LOG_LEVEL=debug", "SYSTEMD_LOG_TIME=1"] + command, "networkd.log")
        self.wait_for(lambda: "Enumeration completed" in self.networkd_log() or "lo: Link state is up-to-date" in self.networkd_log(),
                      10, "networkd start")

    def start_imds_service(self, cmdline):
        """systemd's IMDS service as its socket unit runs it (systemd-imdsd.socket, Accept=yes):
        the tree's daemon, one per connection, behind /run/systemd/io.systemd.InstanceMetadata,
        configured by `cmdline` (the kernel command line it reads) as hwdb configures it on EC2."""
        socket_path = "/run/systemd/io.systemd.InstanceMetadata"
        self.inst("mkdir -p /run/systemd/imds")
        self.imds_service = self.enter(["systemd-socket-activate", "--accept", "--fdname=varlink", "-l", socket_path,
                                        "-E", "SYSTEMD_PROC_CMDLINE=" + cmdline, "-E", "RUNTIME_DIRECTORY=/run/systemd/imds",
                                        "-E", "SYSTEMD_LOG_LEVEL=debug", "-E", "SYSTEMD_LOG_TIME=1",
                                        "chroot", self.networkd_tree, "/usr/lib/systemd/systemd-imdsd"], "imdsd.log")
        self.wait_for(lambda: self.inst("test -S %s" % socket_path, check=False).returncode == 0, 5, "systemd-imdsd's socket")

    def configure(self, text):
        """Writes the instance's /etc/ec2-netgen/ec2-netgen.conf: /etc inside the instance is
        the host's under an overlay (made on first use) that only the instance sees."""
        upper, scratch = os.path.join(self.work, "etc-upper"), os.path.join(self.work, "etc-work")
        if not os.path.isdir(upper):
            os.makedirs(upper)
            os.makedirs(scratch)
            self.inst("mount -n -t overlay overlay -o lowerdir=/etc,upperdir=%s,workdir=%s /etc" % (upper, scratch))
        os.makedirs(os.path.join(upper, "ec2-netgen"), exist_ok=True)
        with open(os.path.join(upper, "ec2-netgen", "ec2-netgen.conf"), "w") as f:
            f.write(text)

    def stop_imds_service(self):
        """Stops the socket (as `systemctl stop systemd-imdsd.socket`, RemoveOnStop=yes)."""
        self.imds_service.terminate()
        self.imds_service.wait(timeout=10)
        self.pids.remove(self.imds_service)
        self.inst("rm -f /run/systemd/io.systemd.InstanceMetadata")

    def stop_networkd(self):
        self.networkd.terminate()
        self.networkd.wait(timeout=10)
        self.pids.remove(self.networkd)

    def reload_count(self):
        """D-Bus Reload calls networkd received (its debug log names each method call)."""
        return self.networkd_log().count("member=Reload ")

    def networkd_log(self):
        with open(os.path.join(self.work, "networkd.log"), errors="replace") as f:
            return f.read()

    def enter(self, argv, log_name):
        return self.spawn(["nsenter", "-t", str(self.holder_pid), "-m", "-n"] + argv, log_name)

    def inst(self, command, check=True, timeout=120):
        """Runs a shell command inside the instance (its mounts and network)."""
        self.log.write("%s [inst] %s\n" % (stamp(), command))
        self.log.flush()
        return run(["nsenter", "-t", str(self.holder_pid), "-m", "-n", "sh", "-c", command], check=check, timeout=timeout)

    def ec2netgen(self, args, check=False, timeout=180):
        """ec2-netgen inside the instance, as its units run it (root /, live sysfs and bus)."""
        result = self.inst(" ".join([self.binary] + args), check=False, timeout=timeout)
        self.log.write(result.stdout + result.stderr)
        if check and result.returncode != 0:
            raise RuntimeError("ec2-netgen %s failed: %s%s" % (" ".join(args), result.stdout, result.stderr))
        return result

    def find_descendant(self, pid, name):
        deadline = time.time() + 5
        while time.time() < deadline:
            for entry in os.listdir("/proc"):
                if not entry.isdigit():
                    continue
                try:
                    with open("/proc/%s/comm" % entry) as f:
                        comm = f.read().strip()
                except OSError:
                    continue
                if comm == name and self.is_descendant(int(entry), pid):
                    return int(entry)
            time.sleep(0.05)
        raise RuntimeError("no %s below %d" % (name, pid))

    def is_descendant(self, pid, ancestor):
        while pid > 1:
            if pid == ancestor:
                return True
            try:
                with open("/proc/%d/stat" % pid) as f:
                    pid = int(f.read().split(") ")[1].split()[1])
            except OSError:
                return False
        return False

    # -- observations ------------------------------------------------------------------
    def wait_for(self, predicate, seconds, what):
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                if predicate():
                    return True
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        raise RuntimeError("timed out after %ss waiting for %s" % (seconds, what))

    def has_address(self, link, address):
        result = self.inst("ip -o addr show dev %s" % link, check=False)
        return (" %s/" % address) in result.stdout

    def link_dns(self, link):
        """The DNS servers networkd has for a link (its state file, as resolved reads it)."""
        index = self.inst("cat /sys/class/net/%s/ifindex" % link).stdout.strip()
        try:
            with open(os.path.join(self.instance_root(), "run/systemd/netif/links", index)) as f:
                for line in f:
                    if line.startswith("DNS="):
                        return line.strip()[4:].split()
        except FileNotFoundError:
            pass
        return []

    def resolve(self, server, source, name=None):
        """An AAAA query from the instance, sent from `source` to `server`: the answer's
        address, or the error. What a resolver configured from networkd's DNS would do."""
        script = (
            "import socket, struct, sys\n"
            "name, server, source = sys.argv[1:4]\n"
            "query = struct.pack('>HHHHHH', 0x4ec2, 0x0100, 1, 0, 0, 0) + b''.join(bytes([len(p)]) + p.encode() "
            "for p in name.split('.')) + b'\\0' + struct.pack('>HH', 28, 1)\n"
            "s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.settimeout(2); s.bind((source, 0))\n"
            "try:\n"
            "    s.sendto(query, (server, 53)); data = s.recv(512)\n"
            "except OSError as error:\n"
            "    print('error: %s' % error); sys.exit(0)\n"
            "rcode, answers = data[3] & 15, struct.unpack('>H', data[6:8])[0]\n"
            "print(socket.inet_ntop(socket.AF_INET6, data[-16:]) if rcode == 0 and answers else 'rcode %d, %d answers' % (rcode, answers))\n")
        path = os.path.join(self.work, "resolve.py")
        with open(path, "w") as f:
            f.write(script)
        return self.inst("%s %s %s %s %s" % (sys.executable, path, name or DNS_NAME, server, source), check=False).stdout.strip()

    def rules(self, family="-4"):
        return self.inst("ip %s rule show" % family).stdout

    def ping(self, role, target, count=3, interval=0.2, wait=1, source=None):
        """(sent, received) of a ping from a namespace (role "inst" pings from the instance)."""
        command = "ping -n -q -c %d -i %s -W %d %s %s" % (count, interval, wait, "-I " + source if source else "", target)
        result = self.inst(command, check=False) if role == "inst" else self.sh(role, command, check=False)
        match = re.search(r"(\d+) packets transmitted, (\d+) received", result.stdout)
        return (int(match.group(1)), int(match.group(2))) if match else (count, 0)

    def reachable(self, role, target, seconds=10):
        """True once a ping from role to target gets a reply, within seconds."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            if self.ping(role, target, count=1, wait=1)[1] == 1:
                return True
        return False

    # -- cleanup -----------------------------------------------------------------------
    def cleanup(self):
        if os.environ.get("KEEP_WORK") == "1" and self.ns("vpc") in self.namespaces:
            # Every packet the source/destination check dropped, for the kept logs.
            with open(os.path.join(self.work, "dropped-packets.log"), "w") as f:
                f.write("\n".join(self.dropped_packets(0)) + "\n")
        for proc in reversed(self.pids):
            if proc.poll() is None:
                proc.kill()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        # Anything still running in our namespaces was started by us (nsenter children).
        for namespace in self.namespaces:
            pids = run(["ip", "netns", "pids", namespace], check=False).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (OSError, ValueError):
                    pass
        for namespace in self.namespaces:
            run(["ip", "netns", "del", namespace], check=False)
        self.log.close()
        if os.environ.get("KEEP_WORK") != "1":
            shutil.rmtree(self.work, ignore_errors=True)
