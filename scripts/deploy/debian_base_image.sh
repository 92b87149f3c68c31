#!/usr/bin/env bash
# Makes a local Debian 12 (bookworm) base image for deploy/Dockerfile where no container registry
# can be reached (so `debian:12.12-slim` cannot be pulled): debootstrap's minbase rootfs from
# Debian's own packages, trimmed and configured the way Docker's official `debian:*-slim` images
# are (debuerreotype: no docs, man pages or locales; apt keeps no package caches, no translations,
# gzipped indexes; the same deb822 sources), then `podman import`ed as TAG. Needs root.
#   usage: scripts/deploy/debian_base_image.sh TAG [MIRROR]
#   e.g.   scripts/deploy/debian_base_image.sh localhost/zett-debian:12-slim
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 TAG [MIRROR]" >&2; exit 2; }
tag=$1
mirror=${2:-http://deb.debian.org/debian}
[ "$(id -u)" -eq 0 ] || { echo "debian_base_image: debootstrap needs root" >&2; exit 1; }
command -v debootstrap > /dev/null || { echo "debian_base_image: no debootstrap (scripts/install_deps.sh deploy/container-host-packages.txt)" >&2; exit 1; }

rootfs=$(mktemp -d -t zett-rootfs-XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
debootstrap --variant=minbase --arch=amd64 bookworm "$rootfs" "$mirror" > "$rootfs.log" 2>&1 ||
  { tail -n 30 "$rootfs.log" >&2; rm -f "$rootfs.log"; exit 1; }
rm -f "$rootfs.log"

# What debuerreotype's slimify and its apt/dpkg snippets do to debian:*-slim.
cat > "$rootfs/etc/dpkg/dpkg.cfg.d/docker" << 'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/info/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
rm -rf "$rootfs"/usr/share/{info,groff,linda,lintian,locale,man}/*
cat > "$rootfs/etc/apt/apt.conf.d/docker-clean" << 'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
echo 'Acquire::Languages "none";' > "$rootfs/etc/apt/apt.conf.d/docker-no-languages"
printf 'Acquire::GzipIndexes "true";\n' > "$rootfs/etc/apt/apt.conf.d/docker-gzip-indexes"
printf 'Apt::AutoRemove::SuggestsImportant "false";\n' > "$rootfs/etc/apt/apt.conf.d/docker-autoremove-suggests"
rm -f "$rootfs/etc/apt/sources.list"
cat > "$rootfs/etc/apt/sources.list.d/debian.sources" << EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/log/*.log \
  "$rootfs"/var/log/apt/* "$rootfs"/tmp/* "$rootfs/etc/machine-id"
# Empty, not absent: systemd-less containers mount over these.
: > "$rootfs/etc/hostname"
: > "$rootfs/etc/resolv.conf"

tar -C "$rootfs" --numeric-owner -c . |
  podman import --change 'CMD ["bash"]' \
    --message "debootstrap --variant=minbase bookworm $mirror (scripts/deploy/debian_base_image.sh)" \
    --quiet - "$tag" > /dev/null
echo "debian_base_image: $tag, Debian $(cat "$rootfs/etc/debian_version"), $(podman image inspect --format '{{.Size}}' "$tag") bytes"
