#!/usr/bin/env bash
# npm run image: the container image of the in-cluster parts (moor gateway, and the egress
# controller and node agent), built without a container daemon: a Debian 12 base from
# debootstrap (cached, scripts/debootstrap-root.sh image), the single executable on top,
# assembled by umoci as an OCI image layout and written by skopeo to
# dist/moor-image-VERSION.oci.tar (an oci-archive; `skopeo copy oci-archive:... docker://REGISTRY/moor:VERSION`
# publishes it). Entrypoint /usr/bin/moor; the manifests choose the command (k8s/kustomization.yaml
# sets the image name). Needs dist/moor: npm run build:sea.
set -euo pipefail
cd "$(dirname "$0")/.."
V=$(node -p 'require("./package.json").version')
[ -x dist/moor ] || { echo "error: dist/moor is missing: npm run build:sea" >&2; exit 1; }
BASE=$(bash scripts/debootstrap-root.sh image)
WORK=$(mktemp -d /tmp/moor-image.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
LAYOUT=$WORK/oci
umoci init --layout "$LAYOUT"
umoci new --image "$LAYOUT:moor"
umoci unpack --image "$LAYOUT:moor" "$WORK/bundle" >/dev/null
rootfs=$WORK/bundle/rootfs
tar -C "$rootfs" -xf "$BASE"
# What a running container never needs: package caches, docs, man pages, locales.
rm -rf "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/usr/share/doc/* \
  "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/* "$rootfs"/var/log/*
install -D -m 0755 dist/moor "$rootfs/usr/bin/moor"
install -D -m 0644 dist/koffi.node "$rootfs/usr/lib/moor/koffi.node"
umoci repack --image "$LAYOUT:moor" "$WORK/bundle" >/dev/null
umoci config --image "$LAYOUT:moor" --tag "$V" \
  --config.entrypoint /usr/bin/moor --config.cmd --help \
  --config.label "org.opencontainers.image.title=moor" \
  --config.label "org.opencontainers.image.version=$V" \
  --config.label "org.opencontainers.image.licenses=Apache-2.0"
umoci rm --image "$LAYOUT:moor"
umoci gc --layout "$LAYOUT"
out=dist/moor-image-$V.oci.tar
rm -f "$out"
skopeo copy --quiet "oci:$LAYOUT:$V" "oci-archive:$out:moor:$V"
echo "built $out ($(du -m "$out" | cut -f1) MB), image moor:$V"
