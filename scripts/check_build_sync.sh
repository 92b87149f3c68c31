#!/usr/bin/env bash
# Fails when a C++ source is listed in its folder's BUILD but not its CMakeLists.txt, or the
# reverse, so that the Bazel and CMake builds cannot drift apart.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
while IFS= read -r src; do
  dir=$(dirname "$src")
  name=$(basename "$src")
  case "$name" in *_fuzzer.cc) continue ;; esac  # fuzz targets are built by scripts/fuzz.sh
  for f in BUILD CMakeLists.txt; do
    if [ ! -f "$dir/$f" ] || ! grep -q "\"\?$name\"\?" "$dir/$f"; then
      # Headers may be listed only by their library in BUILD; CMake needs sources only.
      if [[ "$name" == *.h && "$f" == CMakeLists.txt ]]; then continue; fi
      echo "check_build_sync: $src is not in $dir/$f"
      status=1
    fi
  done
done < <(git ls-files --cached --others --exclude-standard -- core proto server client tests | grep -E '\.(cc|h)$')
[ $status -eq 0 ] && echo "check_build_sync: BUILD and CMakeLists.txt list the same sources"
exit $status
