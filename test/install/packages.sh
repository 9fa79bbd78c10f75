#!/usr/bin/env bash
# Install test of the packages, as a user would on Debian 12: in a fresh debootstrap root
# (cached, see debootstrap-root.sh), `apt install ./moor_*.deb` pulls the dependencies;
# `moor --version` runs; the unit, tmpfiles snippet, conffile, completion and man page are in
# place and `systemd-analyze verify` accepts the unit; an upgrade to a rebuilt package keeps the
# edited conffile; remove keeps the state; purge removes it only when the host is not joined.
# The .rpm: `rpm -qpl`, rpmlint, and an install into a scratch --root. lintian on the .deb.
#
# The root's commands run in `systemd-nspawn --pipe` (its own mounts, removed when it exits);
# apt reaches Debian's mirror through the host's network, nothing else runs networked.
# Usage: test/install/packages.sh DEB REBUILT_DEB RPM   (npm run test:install builds them)
set -euo pipefail
DEB=$(realpath "$1")
DEB2=$(realpath "$2")
RPM=$(realpath "$3")
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT_TAR=$("$HERE/../../scripts/debootstrap-root.sh" install)
WORK=$(mktemp -d /tmp/moor-install-test.XXXXXX)
MACHINE=moor-install-$$
cleanup() {
  # nspawn --pipe runs in the foreground and leaves no machine; lazily unmount anything left.
  grep -o " $WORK[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

mkdir "$WORK/root"
tar -C "$WORK/root" -xf "$ROOT_TAR"
cp /etc/resolv.conf "$WORK/root/etc/resolv.conf"
cp "$DEB" "$WORK/root/root/moor.deb"
cp "$DEB2" "$WORK/root/root/moor-rebuilt.deb"
inroot() {
  # nspawn on a /run that is not tmpfs complains it may not remove its propagation directory
  # (there is nothing in it); drop that one line.
  systemd-nspawn --quiet --pipe --register=no --keep-unit -M "$MACHINE" -D "$WORK/root" \
    -E DEBIAN_FRONTEND=noninteractive /bin/sh -c "$1" 2> >(grep -v "Attempted to remove disk file system" >&2)
}

# 1. apt install pulls the dependencies.
for dep in wireguard-tools iproute2 nftables fping; do
  inroot "dpkg-query -W $dep >/dev/null 2>&1" && fail "$dep is already in the root; the test proves nothing"
done
inroot "apt-get update -qq && apt-get install -y -qq --no-install-recommends /root/moor.deb" >"$WORK/apt.log" 2>&1 ||
  { tail -20 "$WORK/apt.log"; fail "apt install ./moor.deb"; }
for dep in wireguard-tools iproute2 nftables fping; do
  inroot "dpkg-query -W -f='\${Status}' $dep | grep -q 'install ok installed'" || fail "apt did not install $dep"
done
pass "apt install ./moor.deb pulled wireguard-tools iproute2 nftables fping"

version=$(inroot "moor --version")
echo "$version" | grep -Eq '^moor [0-9][^ ]* \(commit [0-9a-f]{7,}(-dirty)?, node v24\.' || fail "moor --version: $version"
pass "moor --version: $version"

for f in /usr/lib/systemd/system/moor-agent.service /usr/lib/tmpfiles.d/moor.conf /etc/moor/config.yaml \
  /usr/share/bash-completion/completions/moor /usr/share/zsh/vendor-completions/_moor \
  /usr/share/man/man1/moor.1.gz /usr/lib/moor/koffi.node; do
  inroot "test -s $f" || fail "$f missing"
done
inroot "dpkg-query --control-show moor conffiles" | grep -qx /etc/moor/config.yaml || fail "config.yaml is not a conffile"
# --man=no: the minimal root has no man-db to resolve Documentation=man:moor(1) (the page is
# checked above).
inroot "systemd-analyze verify --man=no /usr/lib/systemd/system/moor-agent.service" >"$WORK/verify.log" 2>&1 ||
  { cat "$WORK/verify.log"; fail "systemd-analyze verify"; }
[ -s "$WORK/verify.log" ] && { cat "$WORK/verify.log"; fail "systemd-analyze verify printed warnings"; }
inroot "ls /etc/systemd/system/*.wants/moor-agent.service" >/dev/null 2>&1 && fail "the unit is enabled before join"
pass "unit, tmpfiles, conffile, completions, man page in place; verify clean; unit not enabled"

# 2. Upgrade to a rebuilt package keeps an edited conffile and the state.
inroot "echo '# edited by the admin' >> /etc/moor/config.yaml; mkdir -p /var/lib/moor; echo '{}' > /var/lib/moor/state.json"
inroot "apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold /root/moor-rebuilt.deb" \
  >"$WORK/upgrade.log" 2>&1 || { tail -20 "$WORK/upgrade.log"; fail "upgrade"; }
new=$(inroot "dpkg-query -W -f='\${Version}' moor")
[ "$new" = "$(dpkg-deb -f "$DEB2" Version)" ] || fail "after upgrade the version is $new"
inroot "grep -q 'edited by the admin' /etc/moor/config.yaml" || fail "upgrade replaced the edited conffile"
pass "upgraded to $new; edited conffile kept"

# 3. Remove keeps the state; purge of a joined host keeps it too, of a left host removes it.
inroot "apt-get remove -y -qq moor" >"$WORK/remove.log" 2>&1 || { tail "$WORK/remove.log"; fail remove; }
inroot "test ! -e /usr/bin/moor && test -e /var/lib/moor/state.json && test -e /etc/moor/config.yaml" ||
  fail "remove: binary must go, state and conffile stay"
inroot "dpkg --purge moor" >"$WORK/purge.log" 2>&1 || { cat "$WORK/purge.log"; fail purge; }
grep -q 'still joined' "$WORK/purge.log" || fail "purge of a joined host did not say it keeps the state"
inroot "test -e /var/lib/moor/state.json" || fail "purge removed the state of a joined host"
inroot "apt-get install -y -qq --no-install-recommends /root/moor.deb && rm /var/lib/moor/state.json && apt-get purge -y -qq moor" \
  >"$WORK/purge2.log" 2>&1 || { tail "$WORK/purge2.log"; fail "purge after leave"; }
inroot "test ! -e /var/lib/moor && test ! -e /etc/moor" || fail "purge after leave left /var/lib/moor or /etc/moor"
pass "remove keeps state; purge keeps a joined host's state and removes a left host's"

# 4. lintian and rpmlint (overrides and filters carry their reasons).
lintian --pedantic "$DEB" 2>&1 | grep -v 'running with root privileges' && fail "lintian tags above" || true
pass "lintian --pedantic clean"
rpmlint -c "$HERE/../../packaging/rpm/rpmlint.toml" "$RPM" >"$WORK/rpmlint.log" 2>&1 ||
  { cat "$WORK/rpmlint.log"; fail rpmlint; }
grep -q ' 0 errors, 0 warnings' "$WORK/rpmlint.log" || { cat "$WORK/rpmlint.log"; fail "rpmlint"; }
pass "rpmlint clean"

# 5. The .rpm: its file list, and an install into a scratch root.
rpm -qpl "$RPM" >"$WORK/rpm-files"
for f in /usr/bin/moor /usr/lib/systemd/system/moor-agent.service /etc/moor/config.yaml /usr/share/zsh/site-functions/_moor; do
  grep -qx "$f" "$WORK/rpm-files" || fail "rpm -qpl: $f missing"
done
rpm -qp --configfiles "$RPM" | grep -qx /etc/moor/config.yaml || fail "config.yaml is not %config in the rpm"
mkdir "$WORK/rpmroot"
rpm --root "$WORK/rpmroot" --initdb
rpm --root "$WORK/rpmroot" -i --nodeps --noscripts "$RPM"
"$WORK/rpmroot/usr/bin/moor" --version | grep -q '^moor ' || fail "moor from the rpm root does not run"
rpm --root "$WORK/rpmroot" -q moor >/dev/null || fail "rpm database of the scratch root has no moor"
pass "rpm -qpl lists the files; installed into a scratch root; its moor runs"
echo "install test passed"
