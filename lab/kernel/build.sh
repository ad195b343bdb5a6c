#!/bin/sh
# Builds a user-mode Linux kernel for the lab from Debian's linux-source-6.1, with everything the
# router and the concentrator use built in: in-kernel WireGuard and nftables (Debian's linux.uml
# has neither). Prints the kernel's path. Cached by the options' hash; ~5 min on 2 idle cores.
# Usage: lab/kernel/build.sh [CACHE_DIR]    (then: WANBOND_LAB_KERNEL=<printed path> make lab)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cache=${1:-/var/cache/wanbond-lab}
hash=$(sha256sum "$here/options.txt" "$0" | sha256sum | cut -c1-12)
out="$cache/linux-um-$hash"
if [ -x "$out" ]; then echo "$out"; exit 0; fi

need=""
for p in linux-source-6.1 flex bison bc; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need="$need $p"
done
if [ -n "$need" ]; then
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -C "$work" -xf /usr/src/linux-source-6.1.tar.xz
src="$work/linux-source-6.1"
make -C "$src" ARCH=um defconfig >/dev/null
args=""
for o in $(cat "$here/options.txt"); do args="$args -e $o"; done
# shellcheck disable=SC2086
"$src/scripts/config" --file "$src/.config" $args -d MODULES
make -C "$src" ARCH=um olddefconfig >/dev/null
make -C "$src" ARCH=um -j"$(nproc)" linux >&2
mkdir -p "$cache"
cp "$src/linux" "$out.tmp" && mv "$out.tmp" "$out"
echo "$out"
