#!/usr/bin/env bash
# test/fresh-debian.sh [TARGET]: run `make TARGET` (default: test) from a
# clean clone of the committed tree, in a minimal Debian root, exactly as
# the README's quick start tells a new user: install make, then make.
#
# It checks that the README's commands install everything they need: this
# machine may have packages a fresh one lacks. Run it as root; it needs
# debootstrap (installed if missing) and the Debian mirror.
#
#   ORION_DEBIAN_SUITE  the Debian release of the root: bookworm (Debian 12,
#                       PostgreSQL 15; the default), trixie (Debian 13, 17)
#                       or sid (18); make test inside takes the release's
#                       PostgreSQL (test/common.sh). test/matrix runs all three.
#   ORION_CHROOT_BASE   where the pristine minimal root is kept between runs
#                       (default /var/tmp/orion-SUITE-base)
#
# Services are not started inside the root (policy-rc.d), so installing
# postgresql does not start a system cluster on this machine's port 5432.

set -euo pipefail
target=${1:-test}
src=$(cd "$(dirname "$0")/.." && pwd)
suite=${ORION_DEBIAN_SUITE:-bookworm}
case $suite in
    bookworm | trixie | sid) ;;
    *) echo "ORION_DEBIAN_SUITE must be bookworm, trixie or sid" >&2; exit 2 ;;
esac
base=${ORION_CHROOT_BASE:-/var/tmp/orion-$suite-base}
mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
mirror=${mirror:-http://deb.debian.org/debian}

[ "$(id -u)" -eq 0 ] || { echo "run as root (chroot needs it)" >&2; exit 1; }
command -v debootstrap >/dev/null || { apt-get update -qq; apt-get install -y -qq debootstrap; }
if [ ! -x "$base/bin/bash" ]; then
    debootstrap --variant=minbase "$suite" "$base" "$mirror"
fi

root=$(mktemp -d /var/tmp/orion-fresh.XXXXXX)
cleanup() {
    umount -l "$root/proc" 2>/dev/null || true
    umount -l "$root/dev" 2>/dev/null || true
    rm -rf --one-file-system "$root"
}
trap cleanup EXIT

cp -a "$base/." "$root/"
cp /etc/resolv.conf "$root/etc/resolv.conf"
# The root's apt sources: this machine's mirror (its own sources name the
# bookworm suites), for the root's release. sid has no -updates or security
# suite; a mirror's copy of it can also be older than its Release file's
# Valid-Until, which apt then refuses, so that check is off for sid alone.
rm -f "$root/etc/apt/sources.list"
if [ "$suite" = sid ]; then
    printf 'Types: deb\nURIs: %s\nSuites: sid\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "$mirror" >"$root/etc/apt/sources.list.d/debian.sources"
    echo 'Acquire::Check-Valid-Until "false";' >"$root/etc/apt/apt.conf.d/99orion-sid-mirror"
elif [ -f /etc/apt/sources.list.d/debian.sources ]; then
    sed "s/bookworm/$suite/g" /etc/apt/sources.list.d/debian.sources >"$root/etc/apt/sources.list.d/debian.sources"
else
    printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "$mirror" "$suite" "$suite" >"$root/etc/apt/sources.list.d/debian.sources"
fi
# This machine reaches the package registries through its own CA bundle
# (NODE_EXTRA_CA_CERTS, npm's cafile); CI runs with the same environment.
extra_env=()
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
    cp "$NODE_EXTRA_CA_CERTS" "$root/etc/orion-host-ca.crt"
    extra_env=(NODE_EXTRA_CA_CERTS=/etc/orion-host-ca.crt npm_config_cafile=/etc/orion-host-ca.crt)
fi
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod +x "$root/usr/sbin/policy-rc.d"
git clone -q "$src" "$root/root/orion"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"

chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "${extra_env[@]}" \
    /bin/bash -c "cd /root/orion && apt-get update -qq && apt-get install -y -qq make >/dev/null && make $target"
