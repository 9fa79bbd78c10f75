#!/usr/bin/env bash
# Prints the path of a cached Debian 12 root (a tar), building it once with debootstrap.
# Profiles: `install` (default), the root the package install tests install the .deb into;
# `image`, the base of the container image (scripts/build-image.sh). The key names the suite and a hash of the package list, so changing
# the list builds a new root and an unchanged list reuses the cache (CI's warm runs take no time).
# A failed build leaves nothing behind: it works in a temporary directory removed on exit.
set -euo pipefail

SUITE=bookworm
MIRROR=${MOOR_DEBIAN_MIRROR:-http://deb.debian.org/debian}
PROFILE=${1:-install}
case "$PROFILE" in
# systemd + dbus to boot it with systemd-nspawn; dnsmasq to prove the resolver drop-in under
# the unit's hardening (dig asks it). moor's own dependencies are NOT here: `apt install ./moor_*.deb` must
# pull them.
install) INCLUDE=systemd,systemd-sysv,dbus,dnsmasq,bind9-dnsutils,procps,ca-certificates ;;
# What the in-cluster commands (gateway, controller, node-agent) run besides moor itself.
image) INCLUDE=iproute2,nftables,wireguard-tools,wireguard-go,fping,iputils-arping,ca-certificates ;;
*) echo "error: unknown profile $PROFILE (install or image)" >&2; exit 2 ;;
esac
CACHE=${MOOR_TEST_CACHE:-$HOME/.cache/moor-test}
KEY=$(printf '%s %s %s' "$SUITE" "$INCLUDE" v1 | sha256sum | cut -c1-12)
TAR="$CACHE/debootstrap-$SUITE-$PROFILE-$KEY.tar"

if [ -s "$TAR" ]; then
  echo "$TAR"
  exit 0
fi
mkdir -p "$CACHE"
work=$(mktemp -d "$CACHE/.debootstrap.XXXXXX")
cleanup() {
  # debootstrap mounts proc/sys inside the target; never leave them mounted.
  for m in proc sys dev/pts dev; do umount -l "$work/root/$m" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
start=$(date +%s)
debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$work/root" "$MIRROR" >"$work/log" 2>&1 || {
  tail -20 "$work/log" >&2
  echo "error: debootstrap $SUITE failed (log above)" >&2
  exit 1
}
rm -rf "$work/root/var/cache/apt/archives/"*.deb
tar -C "$work/root" -cf "$work/root.tar" .
mv "$work/root.tar" "$TAR"
echo "debootstrap $SUITE: $(($(date +%s) - start)) s" >&2
echo "$TAR"
