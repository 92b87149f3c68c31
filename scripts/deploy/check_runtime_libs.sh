#!/usr/bin/env bash
# Checks that every shared library BINARY... loads from a Debian package named in the given
# package lists (the image's runtime stage installs exactly those), or from LIB_DIR prefixes
# passed with --allow (e.g. a LibTorch wheel copied into the CUDA image).
#   usage: check_runtime_libs.sh [--allow DIR]... LIST... -- BINARY...
set -euo pipefail
cd "$(dirname "$0")/../.."
allow=()
lists=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  if [ "$1" = "--allow" ]; then
    allow+=("$2")
    shift 2
  else
    lists+=("$1")
    shift
  fi
done
[ "${1:-}" = "--" ] && shift
if [ ${#lists[@]} -eq 0 ] || [ $# -eq 0 ]; then
  echo "usage: $0 [--allow DIR]... LIST... -- BINARY..." >&2
  exit 2
fi
declare -A listed=()
while read -r pkg; do listed[$pkg]=1; done < <(grep -hv '^#' "${lists[@]}" | grep -v '^$')

failed=0
checked=0
for binary in "$@"; do
  if ldd "$binary" | grep -q 'not found'; then
    echo "check_runtime_libs: $binary: $(ldd "$binary" | grep 'not found' | tr -s ' \t' ' ')" >&2
    failed=1
  fi
  libs=()
  while read -r lib; do
    real=$(readlink -f "$lib")
    for dir in "${allow[@]}"; do [[ "$real" == "$dir"/* ]] && continue 2; done
    libs+=("$lib")
  done < <(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }')
  [ ${#libs[@]} -gt 0 ] || continue
  # One dpkg -S for all paths (it is slow per call). usrmerge: dpkg knows /usr/lib/... while the
  # loader may report /lib/...; ask for the path, its target and their /usr variants.
  queries=()
  for lib in "${libs[@]}"; do
    real=$(readlink -f "$lib")
    queries+=("$lib" "$real" "/usr$lib" "/usr$real")
  done
  declare -A owner=()
  while IFS= read -r line; do
    owner[${line#*: }]=${line%%:*}
  done < <(dpkg -S "${queries[@]}" 2> /dev/null | grep -v '^diversion' || true)
  for lib in "${libs[@]}"; do
    real=$(readlink -f "$lib")
    pkg=""
    for q in "$lib" "$real" "/usr$lib" "/usr$real"; do
      [ -n "${owner[$q]:-}" ] && { pkg=${owner[$q]}; break; }
    done
    checked=$((checked + 1))
    if [ -z "$pkg" ]; then
      echo "check_runtime_libs: $binary needs $lib, which no Debian package owns" >&2
      failed=1
    elif [ -z "${listed[$pkg]:-}" ]; then
      echo "check_runtime_libs: $binary needs $lib from $pkg, not in ${lists[*]}" >&2
      failed=1
    fi
  done
  unset owner
done
[ "$failed" -eq 0 ] && echo "check_runtime_libs: $checked libraries of $# binaries come from ${lists[*]}"
exit "$failed"
