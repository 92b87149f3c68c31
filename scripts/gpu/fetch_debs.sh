#!/usr/bin/env bash
# On a Debian 12 machine: downloads (does not install) the packages a GPU host without apt needs,
# unpacks them into a private prefix and packs that, trimmed, as .debs/sysroot.tar.xz
# (ignored by git; carried to the GPU host, where scripts/gpu/build_and_test.sh unpacks it).
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .debs/pkgs
mapfile -t pkgs < <(grep -v '^#' scripts/gpu/debian-packages.txt | tr ' ' '\n' | grep -v '^$')
(cd .debs/pkgs && apt-get download "${pkgs[@]}" 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
root=$(mktemp -d)
for f in .debs/pkgs/*.deb; do dpkg -x "$f" "$root"; done
# Static archives are not linked (shared objects are), except GoogleTest and benchmark,
# which Debian ships static only.
find "$root" -name '*.a' ! -name 'libgtest*' ! -name 'libgmock*' ! -name 'libbenchmark*' -delete
rm -rf "$root/usr/share/doc" "$root/usr/share/man" "$root/usr/src"
tar -C "$root" -cJf .debs/sysroot.tar.xz .
rm -rf "$root"
du -h .debs/sysroot.tar.xz
