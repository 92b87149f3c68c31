#!/usr/bin/env bash
# `--help` of zett-server and zett-manifest exits 0 and lists every flag with its default (Abseil's
# own --help printed "No flags matched" for zett-server).
set -euo pipefail
root="${TEST_SRCDIR:+$TEST_SRCDIR/zett}"
root="${root:-${ZETT_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}}"
server_bin="${1:-$root/server/zett-server}"
manifest_bin="${2:-$root/server/zett-manifest}"

# shellcheck source=tests/expect_lines.sh
source "$root/tests/expect_lines.sh"

help="$("$server_bin" --help)"
expect "$help" "zett-server (--model-repository DIR | --model NAME=BASE_DIR,HYPERNET_DIR)" \
  '--model_repository (default: "")' \
  '--listen (default: "0.0.0.0:50051")' \
  "--max_vocab (default: 524288)" \
  "--max_surface_bytes (default: 67108864)" \
  "--max_request_bytes (default: 67108864)" \
  "--warmup (default: true)"
if grep -qF -- "--flagfile" <<<"$help"; then echo "Abseil's own flags listed"; exit 1; fi
# Every ABSL_FLAG of server/main.cc is listed.
for name in $(sed -n 's/^ABSL_FLAG([^,]*, *\([a-z_]*\),.*/\1/p' "$root/server/main.cc"); do
  expect "$help" "--$name (default: "
done
[ "$("$server_bin" -h)" = "$help" ]

help="$("$manifest_bin" --help)"
expect "$help" "usage: zett-manifest [--check] VERSION_DIR..." "--check (default: false)"
echo "ok"
