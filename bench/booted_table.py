"""bench/booted's table: one row per measurement, one column per tool, each cell the median
of the rounds with the spread; the last column ec2-netgen's median over the best other
tool's (the floor excluded: it does not route by source)."""
import os, statistics, time

# (row, result key, unit)
ROWS = [
    ("first boot, 2 ENIs: QEMU start → every address answers", "first boot", "s"),
    ("  source/destination drops across it", "first boot drops", ""),
    ("first boot, 8 ENIs: the same", "first boot 8", "s"),
    ("  source/destination drops across it", "first boot 8 drops", ""),
    ("reboot (cache present): the same", "reboot", "s"),
    ("  source/destination drops across it", "reboot drops", ""),
    ("hot attach: device_add → first reply, primary address", "hot attach primary", "s"),
    ("hot attach: device_add → first reply, secondary address", "hot attach secondary", "s"),
    ("hot detach: device_del → its files, rules, routes gone", "hot detach", "s"),
    ("new secondary address in IMDS → it answers", "new secondary address", "s"),
    ("steady state, per hour: CPU s of its refresh runs", ("steady per hour", "cpu"), "s"),
    ("steady state, per hour: CPU s of every service (networkd's reloads too)", ("steady per hour", "services cpu"), "s"),
    ("steady state, per hour: IMDS requests", ("steady per hour", "imds requests"), ""),
    ("steady state, per hour: IMDS packets", ("steady per hour", "imds packets"), ""),
    ("steady state, per hour: journal lines", ("steady per hour", "journal lines"), ""),
    ("steady state, per hour: processes forked", ("steady per hour", "forks"), ""),
    ("boot cost: network-online.target reached (first boot, since kernel start)", "first boot network-online", "s"),
    ("boot cost: multi-user.target reached (first boot)", "first boot multi-user", "s"),
    ("boot cost: network-online.target reached (reboot)", "reboot network-online", "s"),
    ("boot cost: multi-user.target reached (reboot)", "reboot multi-user", "s"),
]

WHY_EMPTY = {
    "floor": "the floor routes nothing by source: its boot rows are each ENI's DHCP addresses answering a host in "
             "their own subnet; it has no attach, new-address or steady-state work",
    "cloud-init": "cloud-init reads IMDS at boot and at hot plug only: a new secondary address is not picked up "
                  "until the next boot, and it has no periodic work (its steady-state figures are 0 by construction)",
}


def value(result, key):
    if isinstance(key, tuple):
        return (result.get(key[0]) or {}).get(key[1])
    return result.get(key)


def cell(values, unit):
    if not values:
        return "—"
    median = statistics.median(values)
    text = fmt(median, unit)
    if len(values) > 1:
        text += " (%s–%s)" % (fmt(min(values), unit), fmt(max(values), unit))
    return text


def fmt(number, unit):
    if unit == "s":
        return "%.2f" % number if number < 10 else "%.1f" % number
    return "%d" % round(number) if abs(number) >= 10 or number == int(number) else "%.1f" % number


def render(results, tools, image, rounds, quick, parallel=1):
    names = [t.name for t in tools]
    header = "| row | " + " | ".join(t.label for t in tools) + " | ec2-netgen / best other |"
    lines = [header, "|---|" + "---:|" * (len(tools) + 1)]
    for label, key, unit in ROWS:
        medians = {}
        cells = []
        for name in names:
            mine = [r for r in results if r["tool"] == name]
            values = [v for v in (value(r, key) for r in mine) if v is not None]
            text = cell(values, unit)
            # Addresses that never answered within the wait, in how many rounds.
            missing = [r.get(key + " unanswered") for r in mine if isinstance(key, str) and r.get(key + " unanswered")]
            stopped = [r.get(key + " stopped answering") for r in mine if isinstance(key, str) and r.get(key + " stopped answering")]
            if stopped:
                gone = sorted(set(a.split("->")[-1] for m in stopped for a in m))
                text += "; then %s stopped answering (%d of %d rounds)" % (", ".join(gone), len(stopped), len(mine))
            if missing:
                never = sorted(set(a.split("->")[-1] for m in missing for a in m))
                text = "never: %s (%d of %d rounds)%s" % (", ".join(never), len(missing), len(mine),
                                                              "; the rest " + text if values else "")
            cells.append(text)
            if values and not missing:
                medians[name] = statistics.median(values)
        if all(c == "—" for c in cells):
            continue
        others = [v for n, v in medians.items() if n not in ("ec2-netgen", "floor")]
        ratio = "—"
        if "ec2-netgen" in medians and others and not label.startswith("  "):
            best = min(others)
            ratio = "%.2f" % (medians["ec2-netgen"] / best) if best else ("0 / 0" if medians["ec2-netgen"] == 0 else "n/a (best is 0)")
        lines.append("| %s | %s | %s |" % (label, " | ".join(cells), ratio))
    floor = [statistics.median([value(r, k) for r in results if r["tool"] == "floor" and value(r, k) is not None] or [0])
             for k in ("first boot network-online", "reboot network-online")]
    versions = open(os.path.join(image, "versions")).read().strip().replace("\n", ", ")
    errors = ["%s round %d: %s" % (r["tool"], r["round"], "; ".join(r["errors"])) for r in results if r.get("errors")]
    text = [
        "## Side by side on a booted Debian 13 cloud instance", "",
        "Produced by `bench/booted%s` on %s: %d round%s, the tools alternating, %s (QEMU/TCG, one vCPU, "
        "768 MiB; 1 GiB with 8 ENIs) on this 2-core machine. Image: Debian 13 as its EC2 images are built (%s). Each "
        "round boots a new instance (a new instance-id: cloud-init's first boot) from a disk on which the tool was "
        "installed in an earlier boot, as an AMI would be made. Cells: median (min–max) of the rounds; times under TCG, "
        "unscaled. The floor's network-online.target came at %.1f s (first boot) and %.1f s (reboot): what a tool adds "
        "is its figure minus these." % (" --quick" if quick else "", time.strftime("%Y-%m-%d"), rounds, "" if rounds == 1 else "s",
                                        "one guest at a time" if parallel == 1 else "%d guests at a time (figures indicative only)" % parallel,
                                        versions, floor[0], floor[1]),
        "",
        "How each is installed: ec2-netgen with `apt-get install ./ec2-netgen_*.deb` (its cloud.cfg.d file leaves cloud-init "
        "rendering the primary NIC only); Debian's amazon-ec2-net-utils with apt from the image's archive copy; upstream's "
        "2.7.4 from the `.deb` its README builds (`dpkg-buildpackage -b` at tag v2.7.4, files named 07- so they sort "
        "before netplan's); both with cloud-init's network rendering off, since otherwise netplan's 10- files beat "
        "Debian's 70- files and the row would measure cloud-init. Test-only, per tool, the lines that make it treat "
        "virtio as an EC2 NIC (`bench/booted_tools.py`).",
        "",
        "Measured as: boot rows, QEMU start → the first reply from every address of the ENIs to a host in another subnet "
        "(every 200 ms), with the packets the VPC's source/destination check dropped meanwhile; hot attach, QMP "
        "`device_add` → the first reply from the new ENI's addresses to a host in another subnet; hot detach, "
        "`device_del` → no rule, route or `/run/systemd/network` file naming the ENI's addresses, link or MAC; new "
        "secondary address, published in IMDS → its first reply; steady state, a %d s window with the tool's timers "
        "stopped, then %d s with its refresh timer at 5 s: per refresh run, its CPU (its refresh service in a "
        "slice of its own: the slice's cgroup), every service's CPU, the IMDS requests and packets, journal lines and processes forked beyond the stopped window, times the runs "
        "an hour has at the shipped interval (ec2-netgen: one timer, 60 s; amazon-ec2-net-utils: one per ENI, 60 s "
        "after each run ends; 2 ENIs); boot cost, systemd's own timestamps of the targets." % ((30, 30) if quick else (60, 60)),
        "",
        "\n".join(lines), "",
    ]
    for name in names:
        if name in WHY_EMPTY:
            text.append("- %s: %s." % (name, WHY_EMPTY[name]))
    if errors:
        text += ["", "Not measured in this run:", ""] + ["- " + e for e in errors]
    return "\n".join(text) + "\n"
