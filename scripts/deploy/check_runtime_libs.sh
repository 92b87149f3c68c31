#!/usr/bin/env bash
# Checks that every shared library BINARY... loads from a Debian package that the image's
# runtime stage installs: one named in the given lists or one of their (recursive) dependencies,
# or from a directory passed with --allow (e.g. a LibTorch wheel copied into the CUDA image).
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
# What `install_deps.sh LIST` gives the image: the listed packages and, recursively, what they
# depend on (apt installs those too); recommends are not needed by the loader.
mapfile -t named < <(grep -hv '^#' "${lists[@]}" | grep -v '^$')
declare -A listed=()
while read -r pkg; do listed[${pkg%%:*}]=1; done < <(
  apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances "${named[@]}" 2> /dev/null | grep -E '^[a-z0-9]'
)
for pkg in "${named[@]}"; do listed[$pkg]=1; done

failed=0
checked=0
for binary in "$@"; do
  if ldd "$binary" | grep -q 'not found'; then
    echo "check_runtime_libs: $binary: $(ldd "$binary" | grep 'not found' | tr -s ' \t' ' ')" >&2
    failed=1
  fi
  mapfile -t all < <(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }')
  [ ${#all[@]} -gt 0 ] || continue
  mapfile -t all_real < <(readlink -f "${all[@]}")
  libs=()
  reals=()
  for i in "${!all[@]}"; do
    for dir in "${allow[@]}"; do [[ "${all_real[$i]}" == "$dir"/* ]] && continue 2; done
    libs+=("${all[$i]}")
    reals+=("${all_real[$i]}")
  done
  [ ${#libs[@]} -gt 0 ] || continue
  # One dpkg -S for all paths (it is slow per call). usrmerge: dpkg knows /usr/lib/... while the
  # loader may report /lib/...; ask for the path, its target and their /usr variants.
  queries=()
  for i in "${!libs[@]}"; do
    queries+=("${libs[$i]}" "${reals[$i]}" "/usr${libs[$i]}" "/usr${reals[$i]}")
  done
  declare -A owner=()
  while IFS= read -r line; do
    owner[${line#*: }]=${line%%:*}
  done < <(dpkg -S "${queries[@]}" 2> /dev/null | grep -v '^diversion' || true)
  for i in "${!libs[@]}"; do
    lib=${libs[$i]}
    pkg=""
    for q in "$lib" "${reals[$i]}" "/usr$lib" "/usr${reals[$i]}"; do
      [ -n "${owner[$q]:-}" ] && { pkg=${owner[$q]}; break; }
    done
    checked=$((checked + 1))
    if [ -z "$pkg" ]; then
      echo "check_runtime_libs: $binary needs $lib, which no Debian package owns" >&2
      failed=1
    elif [ -z "${listed[$pkg]:-}" ]; then
      echo "check_runtime_libs: $binary needs $lib from $pkg: add $pkg to one of ${lists[*]}" >&2
      failed=1
    fi
  done
  unset owner
done
[ "$failed" -eq 0 ] && echo "check_runtime_libs: $checked libraries of $# binaries come from ${lists[*]}"
exit "$failed"
