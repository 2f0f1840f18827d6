"""The tools bench/booted compares, each installed on the cloud image the way it ships, and
the one test-only line that makes every one of them treat QEMU's virtio NICs as EC2 NICs.

A tool's periodic work is its refresh timer: for the steady-state row the bench shortens
it with a drop-in (`short_timer`, with AccuracySec=1s: at systemd's default of a minute a
5 s timer may wait up to a minute), counts the runs, and scales the cost per run to the runs
an hour has at the tool's shipped interval (`runs_per_hour`)."""
import os, subprocess, tempfile

PEER_GIT = os.environ.get("AMAZON_EC2_NET_UTILS_GIT", "/var/tmp/ec2-netgen-bench/amazon-ec2-net-utils.git")
PEER_TAG = "v2.7.4"
PEER_CACHE = "/var/tmp/ec2-netgen-bench"

# The one test-only line, the same for every tool: QEMU's virtio NICs get the driver name
# EC2's NICs have in udev's ID_NET_DRIVER (what amazon-ec2-net-utils' udev rule and
# .network files and cloud-init's hotplug rule match) and ec2-netgen's documented
# EC2_NETGEN_NIC=1 (its rule matches the sysfs driver). Numbered after 50-udev-default
# (which sets ID_NET_DRIVER) and 75/80 (interface naming, unchanged), before cloud-init's 90-.
VIRTIO_AS_EC2 = ("printf '%s\\n' 'SUBSYSTEM==\"net\", ACTION!=\"remove\", DRIVERS==\"virtio_net\", "
                 "ENV{ID_NET_DRIVER}=\"ena\", ENV{EC2_NETGEN_NIC}=\"1\"' > /etc/udev/rules.d/85-test-virtio-as-ec2.rules")
# networkd matches a .network's Driver= against the driver ethtool reports, not udev's
# ID_NET_DRIVER: amazon-ec2-net-utils' catch-all (80-ec2.network) and the per-interface
# files it links to it (70-<iface>.network in Debian's package, 07-<iface>.network in
# upstream's) get a drop-in adding virtio_net to their Driver= list; the guest's NICs are
# enp1s0 up to enp10s0.
PEER_NETWORK_MATCH = ("for f in 80-ec2 $(for i in $(seq 1 10); do echo 70-enp${i}s0 07-enp${i}s0; done); do "
                      "mkdir -p /etc/systemd/network/$f.network.d && "
                      "printf '[Match]\\nDriver=virtio_net\\n' > /etc/systemd/network/$f.network.d/50-test-virtio.conf; done")
# cloud-init's network rendering off, for the tools that configure the NICs themselves:
# with it on, netplan's 10- files beat Debian's amazon-ec2-net-utils' 70- files and the
# row would measure cloud-init. The file it rendered at the image's first boot goes too.
NETWORK_OFF = ("printf 'network:\\n  config: disabled\\n' > /etc/cloud/cloud.cfg.d/99-bench-network-off.cfg && "
               "rm -f /etc/netplan/50-cloud-init.yaml")
PEER_DEPENDENCIES = "$(ls /opt/peer-debs/*.deb | grep -v /amazon-ec2-net-utils_)"


class Tool:
    def __init__(self, name, label, install, timer=None, short_timer=None, refresh_units=(),
                 runs_per_hour=lambda enis: 0, routes_other_subnets=True, follows_imds=True):
        self.name, self.label = name, label
        # Shell, in the prepare boot, with /mnt/pkg mounted: the tool, then the test-only line.
        self.install = "%s && %s" % (install, VIRTIO_AS_EC2)
        self.timer = timer                # its refresh timer units (a glob), or None
        self.short_timer = short_timer    # {unit file name: drop-in text} for the steady-state row
        self.refresh_units = refresh_units  # its refresh service units (a template: its "name@.service")
        self.runs_per_hour = runs_per_hour
        # The floor routes nothing by source, and cloud-init reads IMDS only at boot and attach.
        self.routes_other_subnets = routes_other_subnets
        self.follows_imds = follows_imds


def peer(name, label, packages):
    """amazon-ec2-net-utils installed with apt from these packages: one refresh timer per ENI,
    OnUnitInactiveSec=60 with systemd's default AccuracySec=1min, which lets systemd delay
    each elapse to the host's fixed point in the minute after it (systemd.timer(5)), so a
    run starts 60 to 120 s after the last one ended. `runs_per_hour` takes the upper bound
    (30 an hour per ENI), which favours the peer; where the rounds saw the shipped timers
    fire twice ("steady shipped gaps"), the table scales by the interval they saw (70-79 s
    between starts in the guests of 2026-12-06, which wake pid 1 more often than an idle
    instance)."""
    return Tool(name, label, NETWORK_OFF + " && apt-get install -y " + packages + " && " + PEER_NETWORK_MATCH,
                timer="refresh-policy-routes@*.timer",
                short_timer={"refresh-policy-routes@.timer":
                             "[Timer]\nOnUnitInactiveSec=\nOnActiveSec=1s\nOnUnitInactiveSec=5s\nRandomizedDelaySec=0\n"
                             "AccuracySec=1s\n"},
                refresh_units=("refresh-policy-routes@.service",),
                runs_per_hour=lambda enis: 30 * enis)


TOOLS = [
    Tool("ec2-netgen", "ec2-netgen (the tree's .deb)",
         "apt-get install -y /mnt/pkg/ec2-netgen.deb",
         timer="ec2-netgen-refresh.timer",
         short_timer={"ec2-netgen-refresh.timer": "[Timer]\nOnUnitActiveSec=\nOnActiveSec=1s\nOnUnitActiveSec=5s\nRandomizedDelaySec=0\n"
                      "AccuracySec=1s\n"},
         refresh_units=("ec2-netgen-refresh.service",),
         # One timer for the instance: OnUnitActiveSec=60s plus RandomizedDelaySec=15s (7.5 s
         # on average), AccuracySec=1s.
         runs_per_hour=lambda enis: 3600 / 67.5),
    peer("peer-debian", "amazon-ec2-net-utils 2.4.1 (Debian 13, apt)", "/opt/peer-debs/*.deb"),
    peer("peer-upstream", "amazon-ec2-net-utils 2.7.4 (upstream's .deb)", "/mnt/pkg/peer-upstream.deb " + PEER_DEPENDENCIES),
    Tool("cloud-init", "cloud-init 25.1 alone (the image as it ships)",
         "true", follows_imds=False),
    Tool("floor", "floor: networkd, a catch-all DHCP file",
         NETWORK_OFF + " && printf '[Match]\\nType=ether\\n\\n[Network]\\nDHCP=yes\\n' > /etc/systemd/network/80-bench-floor.network",
         routes_other_subnets=False, follows_imds=False),
]


def upstream_peer_identity():
    """What the upstream peer's .deb is built from (dpkg-buildpackage's output differs from
    build to build): the release tag and its commit."""
    commit = subprocess.run(["git", "-C", PEER_GIT, "rev-parse", PEER_TAG + "^{commit}"], check=True,
                            capture_output=True, text=True).stdout.strip()
    return "amazon-ec2-net-utils %s %s (dpkg-buildpackage -uc -us -b)" % (PEER_TAG, commit)


def upstream_peer_deb():
    """amazon-ec2-net-utils' latest release as its README installs it: `dpkg-buildpackage -b`
    in its tagged source, the .deb cached outside git. The source is a clone of its public
    repository (AMAZON_EC2_NET_UTILS_GIT); without one the bench stops here."""
    target = os.path.join(PEER_CACHE, "amazon-ec2-net-utils_%s_all.deb" % PEER_TAG[1:])
    if os.path.exists(target):
        return target
    if not os.path.isdir(PEER_GIT):
        raise SystemExit("bench/booted: no clone of amazon-ec2-net-utils at %s (set AMAZON_EC2_NET_UTILS_GIT, "
                         "or clone https://github.com/amazonlinux/amazon-ec2-net-utils there)" % PEER_GIT)
    work = tempfile.mkdtemp(prefix="ec2-netgen-peer-")
    try:
        source = os.path.join(work, "src")
        subprocess.run(["git", "clone", "-q", "-c", "advice.detachedHead=false", "--branch", PEER_TAG, PEER_GIT, source], check=True)
        build = subprocess.run(["dpkg-buildpackage", "-uc", "-us", "-b"], cwd=source, capture_output=True, text=True)
        if build.returncode != 0:
            raise SystemExit("bench/booted: building amazon-ec2-net-utils %s failed:\n%s" % (PEER_TAG, (build.stdout + build.stderr)[-1500:]))
        os.makedirs(PEER_CACHE, exist_ok=True)
        subprocess.run(["cp", os.path.join(work, os.path.basename(target)), target + ".tmp"], check=True)
        os.rename(target + ".tmp", target)
    finally:
        subprocess.run(["rm", "-rf", work])
    return target
