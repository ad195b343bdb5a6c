#!/bin/sh
# Builds the lab's user-mode Linux kernel from Debian's linux-source-6.1, with everything the
# router and the concentrator use built in: in-kernel WireGuard and nftables (Debian's linux.uml
# has neither). Prints the kernel's path. Cached by the content of options.txt and this script;
# ~5 min on 2 idle cores, once.
# Usage: lab/kernel/build.sh [--path] [CACHE_DIR]
#   --path: print where the kernel is (or would be) and exit 1 if it is not built; builds nothing.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
only_path=0
if [ "${1:-}" = "--path" ]; then only_path=1; shift; fi
cache=${1:-${WANBOND_LAB_KERNEL_CACHE:-/var/cache/wanbond-lab}}
# Content only: the same options give the same kernel wherever the repo is checked out.
hash=$(cat "$here/options.txt" "$here/build.sh" | sha256sum | cut -c1-12)
out="$cache/linux-um-$hash"
if [ -x "$out" ]; then echo "$out"; exit 0; fi
if [ "$only_path" = 1 ]; then echo "$out"; exit 1; fi

need=""
for p in linux-source-6.1 flex bison bc make gcc libc6-dev xz-utils; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need="$need $p"
done
if [ -n "$need" ]; then
  echo "lab kernel: installing$need" >&2
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
fi

echo "lab kernel: building $out (about 5 minutes, once)" >&2
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
make -s -C "$src" ARCH=um -j"$(nproc)" linux >&2
mkdir -p "$cache"
cp "$src/linux" "$out.tmp" && mv "$out.tmp" "$out"
echo "$out"
