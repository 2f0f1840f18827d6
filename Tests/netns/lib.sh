# Shared helpers for the tests that run real systemd-networkd/udev in namespaces.
# Sourced by the scripts in this directory; never run directly.

# Fails loudly (never skips) when not root or when a tool is missing: CI is root and
# scripts/setup installs every package named here.
netns_require() {
  local missing=()
  [ "$(id -u)" = 0 ] || { echo "FAIL: namespace tests need root (CI runs as root)" >&2; exit 1; }
  for tool in ip unshare nsenter dnsmasq nft dbus-daemon udevadm python3 "$@"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  [ -x /lib/systemd/systemd-networkd ] || missing+=(/lib/systemd/systemd-networkd)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "FAIL: missing ${missing[*]} — run scripts/setup (Debian: iproute2 util-linux dnsmasq-base nftables dbus-daemon udev systemd)" >&2
    exit 1
  fi
}

# Counters and the closing line CI reads ("N passed, N failed").
NETNS_PASSED=0
NETNS_FAILED=0
pass() { NETNS_PASSED=$((NETNS_PASSED + 1)); echo "ok   - $*"; }
fail() { NETNS_FAILED=$((NETNS_FAILED + 1)); echo "FAIL - $*"; }
netns_summary() {
  echo "netns: $NETNS_PASSED passed, $NETNS_FAILED failed"
  [ "$NETNS_FAILED" = 0 ]
}
