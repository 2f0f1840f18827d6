"""bench/booted's table: one row per measurement, one column per tool, each cell the median
of the rounds with the spread; the last column ec2-netgen's median over the best other
tool's (the floor excluded: it does not route by source)."""
import os, re, statistics, time

from booted_run import BOOT_GRACE, STARTUP_WAIT, WAIT_ADDRESS, WAIT_ATTACH, WAIT_DETACH
from booted_tools import TOOLS

# (row, result key, unit)
ROWS = [
    ("first boot, 2 ENIs: QEMU start → every address answers", "first boot", "s"),
    ("  source/destination drops across that first boot", "first boot drops", ""),
    ("first boot, 8 ENIs: the same", "first boot 8", "s"),
    ("  source/destination drops across that 8-ENI boot", "first boot 8 drops", ""),
    ("reboot (cache present): the same", "reboot", "s"),
    ("  source/destination drops across that reboot", "reboot drops", ""),
    ("hot attach: device_add → first reply, primary address", "hot attach primary", "s"),
    ("hot attach: device_add → first reply, secondary address", "hot attach secondary", "s"),
    ("  source/destination drops until the attached ENI answered", "hot attach drops", ""),
    ("hot detach: device_del → its files, rules, routes gone", "hot detach", "s"),
    ("new secondary address in IMDS → it answers", "new secondary address", "s"),
    ("steady state, per hour: CPU s of its refresh runs", ("steady per hour", "cpu"), "s"),
    ("steady state, per hour: CPU s it makes systemd, networkd, journald, udev, D-Bus and resolved spend", ("steady per hour", "services cpu"), "s"),
    ("steady state, per hour: IMDS requests", ("steady per hour", "imds requests"), ""),
    ("steady state, per hour: IMDS packets", ("steady per hour", "imds packets"), ""),
    ("steady state, per hour: journal lines", ("steady per hour", "journal lines"), ""),
    ("steady state, per hour: processes forked", ("steady per hour", "forks"), ""),
    ("boot cost: network-online.target reached (first boot, since kernel start)", "first boot network-online", "s"),
    ("boot cost: the same, beyond the floor's median", ("beyond the floor", "first boot network-online"), "s"),
    ("boot cost: multi-user.target reached (first boot)", "first boot multi-user", "s"),
    ("boot cost: network-online.target reached (reboot)", "reboot network-online", "s"),
    ("boot cost: the same, beyond the floor's median", ("beyond the floor", "reboot network-online"), "s"),
    ("boot cost: multi-user.target reached (reboot)", "reboot multi-user", "s"),
]

WHY_EMPTY = {
    "floor": "the floor routes nothing by source: its boot rows are each ENI's DHCP addresses answering a host in "
             "their own subnet; it has no attach, new-address or steady-state work",
    "cloud-init": "cloud-init reads IMDS at boot and at hot plug only: a new secondary address is not picked up "
                  "until the next boot, and it has no periodic work (its steady-state figures are 0 by construction)",
}

# What every boot-cost row behind a peer has in common (see "How long cloud-init's local
# stage took" under the table).
LOCAL_STAGE = (
    "on this image cloud-init's local stage runs before network-pre.target, so before every tool's networkd, and it "
    "takes longest where cloud-init renders the network: ec2-netgen's package keeps that on for the primary NIC (the "
    "fallback when ec2-netgen is off or removed), and cloud-init alone has it on as the image ships, while the bench "
    "turns it off for both amazon-ec2-net-utils rounds and the floor (otherwise netplan's 10- files beat theirs); "
    "the list under the table gives each tool's local stage. cloud-init alone, without ec2-netgen's added `boot` "
    "update event, took as long, so that event is not what costs. ec2-netgen's own unit on that chain "
    "(ec2-netgen-cloud-init.service) takes under a second under TCG. What would make it ahead: cloud-init's network "
    "rendering off, as the peers' rounds have it, which docs/decisions.md rejected for the primary NIC's fallback; "
    "or a cheaper local stage in cloud-init")


# Why ec2-netgen is behind a peer (or short of its goal) on a row, and what would make it
# ahead: printed under the table for each row where this run's figures say so. A row
# that lands there without an entry is printed as unexplained.
NOT_AHEAD = {
    ("steady per hour", "imds requests"):
        "each ec2-netgen refresh reads, for the whole instance, a session token, the instance id, the MAC list, each "
        "ENI's listing (which keys exist), each ENI's changing keys (addresses, prefixes, Elastic IPs) and the VPC's "
        "CIDR blocks: 11 requests a run with 2 dual-stack ENIs, 53 runs an hour. amazon-ec2-net-utils reads 3.5 "
        "(2.4.1) to 4.6 (2.7.4) per ENI and run, 7 to 9 for the two ENIs, each ENI's timer firing about as often as "
        "ec2-netgen's (the intervals below the table). Keeping the token across runs, skipping the instance id within a "
        "boot and reading the VPC's blocks less often would save 4 of the 11; what one poll must read at least to "
        "notice any change (the MAC list, and per ENI its listing and its addresses) is 7 with 2 dual-stack ENIs: "
        "level with the peer per poll. So ahead takes fewer polls than the peer, and a tenth of the peer's (the issue's "
        "goal) an interval ten times the peer's, which makes the new-address row slower by as much: the trade-off "
        "between the two goals is the project's to choose",
    "hot attach drops":
        "the goal is 0: since 0.8.0 a new NIC comes up without an address until its own file is written (the catch-all "
        "in /run, NewLinks), and since 0.9.0 its static addresses come only after its rules and table (a first file "
        "without them, then the full one). A drop left here is a case neither covers (the flows below say which)",
    ("steady per hour", "imds packets"):
        "the same reads as the IMDS-requests row, each a connection of its own (IMDS closes every connection)",
    "new secondary address":
        "timer-bound for every tool that follows IMDS (EC2 sends no event for a new secondary address): ec2-netgen's "
        "timer fires 60 s after its last run plus up to 15 s of random spread (so a fleet does not poll IMDS in step), "
        "amazon-ec2-net-utils' per-ENI timers 60 s after each run ends, at the host's fixed point in the next minute "
        "(systemd's default AccuracySec). What would make it ahead: a shorter interval, "
        "paid for in IMDS requests (the row above)",
    "first boot drops":
        "the goal is 0: since 0.10.0 a new instance's first boot plans every ENI from cloud-init's read of IMDS "
        "(ec2-netgen-cloud-init.service) before networkd starts, so no secondary NIC gets the catch-all's DHCP address "
        "ahead of its rules. A drop here is a reply that left before its ENI's table was complete (the flows below "
        "say which)",
    "first boot 8 drops":
        "the goal is 0, as with 2 ENIs and by the same unit: a drop here is a reply that left before its ENI's "
        "table was complete, with 8 NICs coming up at once under TCG (the flows below say which)",
    "first boot network-online": LOCAL_STAGE,
    ("beyond the floor", "first boot network-online"): LOCAL_STAGE,
    "first boot multi-user": LOCAL_STAGE,
    "reboot network-online": LOCAL_STAGE,
    ("beyond the floor", "reboot network-online"): LOCAL_STAGE,
    "reboot multi-user": LOCAL_STAGE,
    ("steady per hour", "services cpu"):
        "pid 1's and journald's part of each refresh run. ec2-netgen's refresh unit has a tighter sandbox than the "
        "peer's (an IP allow-list, which pid 1 attaches as a BPF program at every start, a read-only view of the file "
        "system, a system-call filter; the peer's has PrivateTmp), set up at each of its starts. Not measured apart "
        "yet: the same row with the sandbox lines removed by a test-only drop-in would tell. What would make it ahead "
        "without giving the sandbox up: fewer starts, i.e. a longer interval (the trade-off of the IMDS rows)",
    ("steady per hour", "journal lines"):
        "a refresh run that changes nothing still logs two lines of its own (\"no change: N files up to date\" and "
        "the IMDS cost line) beside systemd's start and finish lines, about 5 a run; amazon-ec2-net-utils 2.7.4 logs "
        "about 3.6 per ENI and run. What would make it ahead: a run that changes nothing logging nothing of its own "
        "(its outcome and IMDS cost stay in `ec2-netgen status`), a change to what the timer's runs print",
    "reboot drops":
        "the goal is 0: with the cache, every ENI's file is in place before networkd starts; a drop here means a "
        "reply left before the ENI's table was complete (the flows below say which)",
}


def value(result, key, results=()):
    """A result's figure for a row; ("beyond the floor", k): its k minus the floor's median k
    in this run (None without a floor); ("steady per hour", k): at the runs an hour the run
    saw (`hourly_factor`)."""
    if isinstance(key, tuple) and key[0] == "beyond the floor":
        floor = [r[key[1]] for r in results if r["tool"] == "floor" and r.get(key[1]) is not None]
        mine = result.get(key[1])
        return None if mine is None or not floor or result["tool"] == "floor" else mine - statistics.median(floor)
    if isinstance(key, tuple):
        figure = (result.get(key[0]) or {}).get(key[1])
        if figure is not None and key[0] == "steady per hour":
            figure *= hourly_factor(result["tool"], results)
        return figure
    return result.get(key)


# The hourly rows are a refresh run's cost times the runs an hour has at the shipped timer.
# A round stores them at the interval the tool's units give (booted_tools, runs_per_hour);
# where the rounds saw a tool's timer fire at least MIN_GAPS times over before the
# steady-state window, the median interval seen there sets the runs instead.
MIN_GAPS = 2


def observed_interval(name, results):
    """The median seconds between two starts of one refresh unit over the rounds, or None."""
    gaps = [g for r in results if r["tool"] == name for g in r.get("steady shipped gaps") or []]
    return statistics.median(gaps) if len(gaps) >= MIN_GAPS else None


def hourly_factor(name, results):
    tool = next((t for t in TOOLS if t.name == name), None)
    interval = observed_interval(name, results)
    if tool is None or interval is None or not tool.runs_per_hour(1):
        return 1.0
    # Per-ENI timers (the peer's) run once per ENI: the runs per ENI scale with 2 ENIs.
    timers = round(tool.runs_per_hour(2) / tool.runs_per_hour(1))
    return timers * 3600 / interval / tool.runs_per_hour(2)


def stage_seconds(chain, unit):
    """How long a unit on a critical chain took to start ("unit @12.3s +4.5s"), or None."""
    for line in chain:
        if line.startswith(unit + " "):
            match = re.search(r"\+(?:(\d+)min )?([\d.]+)(ms|s)$", line)
            if match:
                return int(match.group(1) or 0) * 60 + float(match.group(2)) / (1000 if match.group(3) == "ms" else 1)
    return None


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
    behind = []
    explained = {}
    for label, key, unit in ROWS:
        medians = {}
        cells = []
        for name in names:
            mine = [r for r in results if r["tool"] == name]
            values = [v for v in (value(r, key, results) for r in mine) if v is not None]
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
        # A difference from the floor has no meaningful ratio (either side can be near 0).
        if "ec2-netgen" in medians and others and not label.startswith("  ") and not (isinstance(key, tuple) and key[0] == "beyond the floor"):
            best = min(others)
            ratio = "%.2f" % (medians["ec2-netgen"] / best) if best else ("0 / 0" if medians["ec2-netgen"] == 0 else "n/a (best is 0)")
        lines.append("| %s | %s | %s |" % (label, " | ".join(cells), ratio))
        # Behind the best other tool, or (drops) short of 0; every row is lower-is-better.
        ours = medians.get("ec2-netgen")
        short = [r for r in results if r["tool"] == "ec2-netgen" and isinstance(key, str) and r.get(key + " unanswered")]
        if "ec2-netgen" in names and (short or (ours is not None and others and ours > min(others))
                                      or (key in ("first boot drops", "first boot 8 drops", "reboot drops", "hot attach drops") and ours)):
            why = NOT_AHEAD.get(key, "**not explained yet**")
            # A reason shared by several rows is written out under the first of them.
            first = explained.setdefault(why, label.strip()) if key in NOT_AHEAD else label.strip()
            behind.append("- %s: %s." % (label.strip(), why if first == label.strip() else 'as for "%s"' % first))
    floor = [statistics.median([value(r, k) for r in results if r["tool"] == "floor" and value(r, k) is not None] or [0])
             for k in ("first boot network-online", "reboot network-online")]
    versions = open(os.path.join(image, "versions")).read().strip().replace("\n", ", ")
    # A run resumed with --resume spans the days its rounds were measured on.
    days = sorted(set(r["date"] for r in results if r.get("date"))) or [time.strftime("%Y-%m-%d")]
    dates = [days[0]] if len(days) == 1 else [days[0], days[-1]]
    errors = ["%s round %d: %s" % (r["tool"], r["round"], "; ".join(r["errors"])) for r in results if r.get("errors")]
    text = [
        "## Side by side on a booted Debian 13 cloud instance", "",
        "Produced by `bench/booted%s` on %s: %d round%s, the tools alternating, %s (QEMU/TCG, one vCPU, "
        "768 MiB; 1 GiB with 8 ENIs) on this 2-core machine. Image: Debian 13 as its EC2 images are built (%s). Each "
        "round boots a new instance (a new instance-id: cloud-init's first boot) from a disk on which the tool was "
        "installed in an earlier boot of an instance with other ENIs (other MACs), as an AMI would be made. Cells: median (min–max) of the rounds; times under TCG, "
        "unscaled. The floor's network-online.target came at %.1f s (first boot) and %.1f s (reboot): what a tool adds "
        "is its figure minus these." % ((" --quick" if quick else "") + ("" if parallel == (2 if quick else 1) else " --parallel %d" % parallel)
                                        + ("" if quick or rounds == 5 else " --rounds %d" % rounds), " to ".join(dates), rounds, "" if rounds == 1 else "s",
                                        "one guest at a time" if parallel == 1 else "%d guests at a time, sharing the cores" % parallel,
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
        "slice of its own: the slice's cgroup), the CPU of the services a refresh makes work (pid 1, networkd, journald, udevd, D-Bus, resolved: their cgroups), the IMDS requests and packets, journal lines and processes forked beyond the stopped window, times the runs "
        "an hour has at the shipped timer with 2 ENIs: the interval the rounds saw it fire at before the window where "
        "they saw it at least twice (listed below the table), else the one its units give (ec2-netgen: one timer, 60 s "
        "after each run began plus 0 to 15 s, 67.5 s on average; amazon-ec2-net-utils: one per ENI, 60 s after each "
        "run ends, at systemd's default AccuracySec of a minute, which lets it wait up to the host's fixed point in the "
        "next minute: 120 s at most); boot cost, systemd's own timestamps of the targets. \"never\": at boot, no reply "
        "%d s after the latest first reply of the other addresses; after an attach or a new address, none within %d s "
        "or %d s; a detach whose leftovers are still there after %d s is listed with them."
        % (((30, 30) if quick else (60, 60)) + (BOOT_GRACE, WAIT_ATTACH, WAIT_ADDRESS, WAIT_DETACH)),
        "",
        "\n".join(lines), "",
    ]
    for name in names:
        if name in WHY_EMPTY:
            text.append("- %s: %s." % (name, WHY_EMPTY[name]))
    # Which replies the source/destination check dropped: the flows, per tool and ENI port.
    dropped = []
    for name in names:
        for key in ("first boot", "first boot 8", "reboot", "hot attach"):
            seen = {}
            for r in results:
                if r["tool"] == name:
                    for eni, flows in (r.get(key + " dropped flows") or {}).items():
                        seen.setdefault(eni, set()).update(flows)
            for eni, flows in sorted(seen.items()):
                shown = sorted(flows)
                dropped.append("- %s, %s, %s's port: %s%s" % (name, key, eni, ", ".join(shown[:6]),
                                                               " and %d more" % (len(shown) - 6) if len(shown) > 6 else ""))
    if dropped:
        text += ["", "Flows (source → destination) the source/destination check dropped, over the rounds, each under the "
                 "window of its round it was first dropped in (a flow dropped again later, e.g. at the reboot as at the "
                 "first boot, is not listed again; the drop counts above count every packet):", ""] + dropped
    chains = []
    for name in names:
        for key in ("first boot", "reboot"):
            mine = [r for r in results if r["tool"] == name and r.get(key + " critical chain") and r.get(key + " network-online")]
            if not mine:
                continue
            # The round whose network-online.target came closest to the tool's median.
            middle = statistics.median(r[key + " network-online"] for r in mine)
            chosen = min(mine, key=lambda r: abs(r[key + " network-online"] - middle))
            chains.append("- %s, %s (round %s): %s" % (name, key, chosen.get("round", "?"), " ← ".join(chosen[key + " critical chain"])))
    # cloud-init's local stage precedes network-pre.target on this image, so whatever it does
    # there (rendering the network, reading IMDS for it) delays every tool's networkd.
    stages = []
    for name in names:
        for key in ("first boot", "reboot"):
            took = [stage_seconds(r.get(key + " critical chain") or [], "cloud-init-local.service") for r in results if r["tool"] == name]
            took = [t for t in took if t is not None]
            if took:
                stages.append("- %s, %s: %s" % (name, key, cell(took, "s") + " s"))
    if stages:
        text += ["", "How long cloud-init's local stage (`cloud-init-local.service`, before `network-pre.target`) took "
                 "to start, from the same critical chains, median (min–max) of the rounds:", ""] + stages
    if chains:
        text += ["", "What network-online.target waited for (`systemd-analyze critical-chain`: each unit's start "
                 "after boot, @, and how long it took to start, +), in each tool's round closest to its median:", ""] + chains
    unfinished = ["- %s, %s (round %s): %s" % (r["tool"], key, r.get("round", "?"), r[key + " startup unfinished"])
                  for r in results for key in ("first boot", "first boot 8", "reboot") if r.get(key + " startup unfinished")]
    if unfinished:
        text += ["", "Boots still starting up %d s after every address answered (`systemctl is-system-running --wait`), "
                 "with the jobs still running:" % STARTUP_WAIT, ""] + unfinished
    gaps = []
    for tool in tools:
        seen = [g for r in results if r["tool"] == tool.name for g in r.get("steady shipped gaps") or []]
        if not tool.runs_per_hour(1):
            continue
        used = observed_interval(tool.name, results)
        runs = (tool.runs_per_hour(2) * hourly_factor(tool.name, results))
        gaps.append("- %s: %s; the hourly rows use %s, %.1f runs an hour" % (
            tool.name, "median %.1f s (%.1f–%.1f s, %d intervals)" % (statistics.median(seen), min(seen), max(seen), len(seen))
            if seen else "none seen", "that median" if used else "its units' interval", runs))
    if gaps:
        text += ["", "Seconds between two starts of one refresh service at the shipped timer, from each round's journal "
                 "before the steady-state window (which most rounds reach before any timer fired twice):", ""] + gaps
    if behind:
        text += ["", "Where ec2-netgen is not ahead (or short of its goal) in this run, why, and what would make it so:", ""] + behind
    if errors:
        text += ["", "Not measured in this run:", ""] + ["- " + e for e in errors]
    return "\n".join(text) + "\n"
