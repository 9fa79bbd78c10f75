#!/usr/bin/env bash
# The container image's entrypoint runs: unpack dist/moor-image-VERSION.oci.tar into an OCI
# runtime bundle with umoci and run it with crun, arguments `--version` (the entrypoint is
# /usr/bin/moor). No network: the bundle's own network namespace has only loopback.
set -euo pipefail
cd "$(dirname "$0")/../.."
V=$(node -p 'require("./package.json").version')
IMAGE=dist/moor-image-$V.oci.tar
WORK=$(mktemp -d /tmp/moor-image-test.XXXXXX)
ID=moor-image-test-$$
cleanup() {
  crun --cgroup-manager=disabled delete --force "$ID" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
skopeo copy --quiet "oci-archive:$IMAGE" "oci:$WORK/oci:moor"
umoci unpack --image "$WORK/oci:moor" "$WORK/bundle" >/dev/null
entry=$(jq -r '.process.args | join(" ")' "$WORK/bundle/config.json")
[ "$entry" = "/usr/bin/moor --help" ] || { echo "FAIL: entrypoint+cmd is \"$entry\"" >&2; exit 1; }
jq '.process.args = ["/usr/bin/moor", "--version"] | .process.terminal = false' "$WORK/bundle/config.json" >"$WORK/c.json"
mv "$WORK/c.json" "$WORK/bundle/config.json"
# crun first; this host's cgroups are hybrid (v1 controllers plus a v2 mount), which crun
# refuses ("cgroups in hybrid mode not supported, drop all controllers from cgroupv2"), also
# with --cgroup-manager=disabled. Then the image's own rootfs and entrypoint run under chroot in
# fresh network and PID namespaces instead.
if ! out=$(crun --cgroup-manager=disabled run --bundle "$WORK/bundle" "$ID" 2>"$WORK/crun.err"); then
  echo "crun cannot run here: $(cat "$WORK/crun.err"); running the entrypoint under chroot" >&2
  mapfile -t argv < <(jq -r '.process.args[]' "$WORK/bundle/config.json")
  out=$(unshare --net --pid --fork chroot "$WORK/bundle/rootfs" "${argv[@]}")
fi
echo "$out" | grep -Eq "^moor $V \(commit [0-9a-f]{7,}(-dirty)?, node v24\." || { echo "FAIL: $out" >&2; exit 1; }
for tool in ip wg wireguard-go nft fping arping; do
  [ -n "$(find "$WORK/bundle/rootfs/usr" "$WORK/bundle/rootfs/bin" "$WORK/bundle/rootfs/sbin" -name "$tool" -print -quit 2>/dev/null)" ] ||
    { echo "FAIL: $tool missing from the image" >&2; exit 1; }
done
echo "ok: the image's entrypoint ($(jq -r ".process.args[0]" "$WORK/bundle/config.json")) printed: $out; ip wg wireguard-go nft fping arping present"
