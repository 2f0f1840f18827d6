#!/usr/bin/env python3
"""Writes a synthetic EC2 instance: a metadata document and a links file (and, with
--netplan, an equivalent netplan YAML) for golden tests and benchmarks.

usage: gen-instance.py OUTDIR --enis N --ipv4 K --ipv6 K [--prefixes] [--cards C] [--netplan]
Deterministic: the same arguments always give the same bytes.
"""
import argparse, json, os


def mac(card, dev):
    return "02:00:00:%02x:%02x:%02x" % (card, dev >> 8, (dev & 0xff) + 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--enis", type=int, default=1)
    ap.add_argument("--ipv4", type=int, default=1)
    ap.add_argument("--ipv6", type=int, default=0)
    ap.add_argument("--prefixes", action="store_true", help="4 IPv4 + 4 IPv6 delegated prefixes per ENI")
    ap.add_argument("--cards", type=int, default=1)
    ap.add_argument("--netplan", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    macs, links, netplan = {}, [], []
    per_card = (a.enis + a.cards - 1) // a.cards
    index = 2
    for n in range(a.enis):
        card, dev = divmod(n, per_card) if a.cards > 1 else (0, n)
        m = mac(card, dev)
        subnet = n + 1
        v4 = ["10.%d.%d.%d" % (card, subnet, 10 + i) for i in range(a.ipv4)]
        v6 = ["2600:1f14:abc:%x%02x::%x" % (card, subnet, 0x10 + i) for i in range(a.ipv6)]
        entry = {
            "device-number": str(dev),
            "interface-id": "eni-%017x" % (0xa000 + n),
            "local-ipv4s": "\n".join(v4),
            "subnet-ipv4-cidr-block": "10.%d.%d.0/24" % (card, subnet),
            "vpc-ipv4-cidr-blocks": "10.%d.0.0/16" % card,
            "vpc-id": "vpc-%017x" % (0xb000 + card),
        }
        if a.cards > 1:
            entry["network-card"] = str(card)
        if v6:
            entry["ipv6s"] = "\n".join(v6)
            entry["subnet-ipv6-cidr-blocks"] = "2600:1f14:abc:%x%02x::/64" % (card, subnet)
            entry["vpc-ipv6-cidr-blocks"] = "2600:1f14:abc:%x00::/56" % card
        if a.prefixes:
            entry["ipv4-prefix"] = "\n".join("10.%d.%d.%d/28" % (card, subnet, 128 + 16 * i) for i in range(4))
            entry["ipv6-prefix"] = "\n".join("2600:1f14:abc:%x%02x:%x::/80" % (card, subnet, i + 1) for i in range(4))
        macs[m] = entry
        links.append({"name": "ens%d" % (5 + n), "mac": m, "driver": "ena", "index": index})
        index += 1
        netplan.append((m, n, card, dev, v4, v6, entry))
    doc = {"meta-data": {"instance-id": "i-0123456789abcdef0", "mac": mac(0, 0),
                         "network": {"interfaces": {"macs": macs}}}}
    with open(os.path.join(a.outdir, "metadata.json"), "w") as f:
        json.dump(doc, f, indent=2, sort_keys=True)
        f.write("\n")
    with open(os.path.join(a.outdir, "links.json"), "w") as f:
        json.dump(links, f, indent=2)
        f.write("\n")
    if a.netplan:
        write_netplan(os.path.join(a.outdir, "netplan.yaml"), netplan)


def write_netplan(path, enis):
    """The same addresses, tables, routes and rules expressed for netplan's generator."""
    out = ["network:", "  version: 2", "  renderer: networkd", "  ethernets:"]
    for m, n, card, dev, v4, v6, entry in enis:
        table = 10000 + 100 * card + dev
        metric = 512 + 100 * card + dev
        out += ["    eni%d:" % n, "      match:", "        macaddress: \"%s\"" % m,
                "      dhcp4: true", "      dhcp4-overrides:", "        route-metric: %d" % metric]
        if v6:
            out += ["      accept-ra: true"]
        addrs = ["%s/32" % x for x in v4[1:]] + ["%s/128" % x for x in v6]
        if addrs:
            out.append("      addresses:")
            out += ["        - \"%s\"" % x for x in addrs]
        out.append("      routes:")
        out += ["        - to: \"%s\"" % entry["subnet-ipv4-cidr-block"], "          scope: link", "          table: %d" % table,
                "        - to: \"%s\"" % entry["vpc-ipv4-cidr-blocks"], "          via: \"10.%d.%d.1\"" % (card, n + 1), "          table: %d" % table,
                "        - to: default", "          via: \"10.%d.%d.1\"" % (card, n + 1), "          table: %d" % table]
        if v6:
            out += ["        - to: \"%s\"" % entry["subnet-ipv6-cidr-blocks"], "          table: %d" % table,
                    "        - to: \"%s\"" % entry["vpc-ipv6-cidr-blocks"], "          via: \"fe80::1\"", "          on-link: true", "          table: %d" % table,
                    "        - to: \"::/0\"", "          via: \"fe80::1\"", "          on-link: true", "          table: %d" % table]
        sources = ["%s/32" % x for x in v4] + ["%s/128" % x for x in v6]
        sources += entry.get("ipv4-prefix", "").split("\n") if entry.get("ipv4-prefix") else []
        sources += entry.get("ipv6-prefix", "").split("\n") if entry.get("ipv6-prefix") else []
        out.append("      routing-policy:")
        for s in sources:
            out += ["        - from: \"%s\"" % s, "          table: %d" % table, "          priority: %d" % (10000 + 100 * card + dev)]
            out += ["        - from: \"%s\"" % s, "          table: %d" % table, "          priority: %d" % (21000 + 100 * card + dev)]
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
