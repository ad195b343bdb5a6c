#!/bin/sh
# Installs what a fresh Debian machine lacks to build, test and run the lab. Idempotent and quiet
# when everything is already there.
set -eu
cd "$(dirname "$0")/.."

# Debian packages: the lab's kernel and tools, the broker and the browser for tests.
PKGS="user-mode-linux iperf3 wireguard-tools wireguard-go iputils-ping nftables iproute2 \
mosquitto mosquitto-clients chromium openssl fakeroot iptables"
# Packaging tests: ar(1) reads archives, systemd-analyze checks the concentrator's unit.
PKGS="$PKGS binutils systemd"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "deps: installing Debian packages:$missing"
  if [ "$(id -u)" != 0 ]; then echo "deps: need root for apt-get" >&2; exit 1; fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
  # The packaged mosquitto service is not wanted: tests start their own broker on a free port.
  systemctl disable --now mosquitto >/dev/null 2>&1 || true
fi

# The lab's kernel: user-mode Linux with in-kernel WireGuard and nftables, built once and cached.
if ! lab/kernel/build.sh --path >/dev/null; then
  if [ "$(id -u)" != 0 ]; then echo "deps: need root to build the lab's kernel" >&2; exit 1; fi
  lab/kernel/build.sh >/dev/null
fi

# npm packages, from the lock file, only when it changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "deps: npm ci"
  npm ci --no-fund --no-audit --loglevel=error
fi
