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
[ ${#lists[@]} -gt 0 ] && [ $# -gt 0 ] || { echo "usage: $0 [--allow DIR]... LIST... -- BINARY..." >&2; exit 2; }
declare -A listed=()
while read -r pkg; do listed[$pkg]=1; done < <(grep -hv '^#' "${lists[@]}" | grep -v '^$')

failed=0
checked=0
for binary in "$@"; do
  if ldd "$binary" | grep -q 'not found'; then
    echo "check_runtime_libs: $binary: $(ldd "$binary" | grep 'not found' | tr -s ' \t' ' ')" >&2
    failed=1
  fi
  while read -r lib; do
    real=$(readlink -f "$lib")
    for dir in "${allow[@]}"; do [[ "$real" == "$dir"/* ]] && continue 2; done
    # usrmerge: dpkg knows /usr/lib/... while the loader may report /lib/...
    pkg=$(dpkg -S "$lib" "$real" "/usr$lib" "/usr$real" 2> /dev/null | head -n 1 | cut -d: -f1 || true)
    checked=$((checked + 1))
    if [ -z "$pkg" ]; then
      echo "check_runtime_libs: $binary needs $lib, which no Debian package owns" >&2
      failed=1
    elif [ -z "${listed[$pkg]:-}" ]; then
      echo "check_runtime_libs: $binary needs $lib from $pkg, not in ${lists[*]}" >&2
      failed=1
    fi
  done < <(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }')
done
[ "$failed" -eq 0 ] && echo "check_runtime_libs: $checked libraries of $# binaries come from ${lists[*]}"
exit "$failed"
