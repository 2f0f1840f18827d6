"""Runs inside a private network + mount namespace (Tests/netns/systemd-integration):
a fake journald socket and a uevent listener watch one `ec2-netgen apply`, which must
send structured journal entries per configured ENI (sd_journal_sendv) and re-trigger an
udev "add" for every link whose .link file is new (sd_device_trigger).
usage: python3 journal-and-uevent.py BINARY METADATA  (prints one JSON line)"""
import json, os, socket, subprocess, sys, time

binary, metadata = sys.argv[1], sys.argv[2]
os.makedirs("/run/systemd/journal", exist_ok=True)
journal = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
journal.bind("/run/systemd/journal/socket")
journal.settimeout(0.2)
uevents = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 15)  # NETLINK_KOBJECT_UEVENT
uevents.bind((0, 1))
uevents.settimeout(0.2)
for index, name in enumerate(["ens5", "ens6", "ens7"]):
    subprocess.run(["ip", "link", "add", name, "address", "02:00:00:00:00:0%d" % (index + 1), "type", "veth",
                    "peer", "name", "peer%d" % index], check=True)
time.sleep(0.3)
while True:  # drop the uevents of the link creation itself
    try:
        uevents.recv(65536)
    except socket.timeout:
        break
env = dict(os.environ, JOURNAL_STREAM="8:1234")
result = subprocess.run([binary, "apply", "--metadata", metadata, "--no-reload"], capture_output=True, text=True, env=env)
entries, triggered = [], []
deadline = time.time() + 2
while time.time() < deadline:
    try:
        data = journal.recv(65536)
        entries.append(dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line))
    except socket.timeout:
        pass
    try:
        data = uevents.recv(65536)
        header = data.split(b"\0")[0].decode()
        if header.startswith("add@") and "/net/" in header:
            triggered.append(header.rsplit("/", 1)[-1])
    except socket.timeout:
        pass
print(json.dumps({"status": result.returncode, "stderr": result.stderr, "entries": entries, "triggered": sorted(set(triggered))}))
