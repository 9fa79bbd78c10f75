#!/usr/bin/env bash
# Installs what the end-to-end tests need on a Debian 12 machine (run as root). Idempotent:
# packages already present are not fetched again, so warm runs take a second.
set -euo pipefail

PACKAGES=(
  wireguard-go wireguard-tools   # userspace WireGuard (no kernel module here) and `wg`
  nftables iproute2 iputils-ping # firewall, links/routes/namespaces, ping
  dnsutils dnsperf dnsmasq-base  # dig; DNS benchmarks against dnsmasq
  etcd-server openssl            # the test API server's store and PKI
  iperf3 procps psmisc           # throughput benchmark; process tools
  fping iputils-arping           # health-check pings; gratuitous ARP for the gateway address
  debootstrap systemd-container  # package install test: a Debian 12 root, booted with systemd-nspawn
  rpm lintian rpmlint fakeroot   # npm run package (rpmbuild) and the package linters
  umoci skopeo crun jq           # container image without a daemon (npm run image) and its test
  binutils                       # strip for the single executable
  iptables                       # moor acl export -o iptables is loaded into a real firewall
  yq                             # the yaml import recipe of docs/egress-acl.md (jq above is the json one)
  zsh groff-base man-db          # the generated zsh completion and man page are exercised
)

if [ "$(id -u)" != 0 ]; then
  echo "error: run as root (the tests create network namespaces): sudo $0" >&2
  exit 1
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

command -v go >/dev/null || {
  echo "error: Go is needed to build the test API server once (scripts/build-kube-binaries.sh); install Go >= 1.24" >&2
  exit 1
}
echo "test host ready"
