#!/usr/bin/env bash
# Builds the test API server binaries (kube-apiserver, kube-controller-manager) from the Go
# module proxy at a pinned Kubernetes release, into a cache outside the repo keyed by version.
# Only the first run is slow; later runs exit at once. Go is used for these test binaries only.
set -euo pipefail

K8S_VERSION="${MOOR_K8S_VERSION:-v1.35.4}"
CACHE_ROOT="${MOOR_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/moor-test}"
OUT="$CACHE_ROOT/kubernetes-$K8S_VERSION"
BINARIES=(kube-apiserver kube-controller-manager)

have_all() {
  for b in "${BINARIES[@]}"; do [ -x "$OUT/$b" ] || return 1; done
}
if have_all; then
  echo "kubernetes $K8S_VERSION binaries cached in $OUT"
  exit 0
fi

command -v go >/dev/null || { echo "error: go is needed to build the test API server (apt-get install golang or use the machine's Go)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
export GOFLAGS=-mod=mod
go mod init moor.local/kube-test-binaries >/dev/null 2>&1

# k8s.io/kubernetes points its staging modules at ./staging; replace each with its published
# v0.x twin (v1.35.4 -> v0.35.4), read from the release's own go.mod so the list is never stale.
gomod="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')"
staging_version="v0.${K8S_VERSION#v1.}"
mapfile -t staging < <(sed -n 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\) => \./staging/.*#\1#p' "$gomod")
[ "${#staging[@]}" -gt 10 ] || { echo "error: found only ${#staging[@]} staging modules in $gomod" >&2; exit 1; }
for m in "${staging[@]}"; do
  go mod edit -replace "$m=$m@$staging_version"
done
go mod edit -require "k8s.io/kubernetes@$K8S_VERSION"
{
  echo '//go:build tools'
  echo 'package tools'
  echo 'import ('
  for b in "${BINARIES[@]}"; do echo "  _ \"k8s.io/kubernetes/cmd/$b\""; done
  echo ')'
} > tools.go
go mod tidy

minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
mkdir -p "$OUT.partial"
for b in "${BINARIES[@]}"; do
  echo "building $b $K8S_VERSION ..."
  CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$OUT.partial/$b" "k8s.io/kubernetes/cmd/$b"
done
rm -rf "$OUT"
mv "$OUT.partial" "$OUT"
echo "kubernetes $K8S_VERSION binaries built into $OUT"
