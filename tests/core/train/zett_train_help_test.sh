#!/usr/bin/env bash
# `zett-train <subcommand> --help` exits 0 and lists the flags the subcommand reads, with their
# defaults (command_line.h); `zett-train --help` points there.
set -euo pipefail
bin="$1"

root="${TEST_SRCDIR:+$TEST_SRCDIR/zett}"
root="${root:-$(cd "$(dirname "$0")/../../.." && pwd)}"
# shellcheck source=tests/expect_lines.sh
source "$root/tests/expect_lines.sh"

expect "$("$bin" --help)" "zett-train <subcommand> --help"
expect "$("$bin" pretrain --help)" "--train_files (default: none, required)" \
  "--hidden_size (default: 256)" "--steps (default: 2000)" "--lr (default: 0.002)"
for sub in train logits eval continue; do
  help="$("$bin" "$sub" --help)"
  expect "$help" "flags:"
  [ "$(grep -c -- '^  --.* (default: ' <<<"$help")" -ge 3 ] || { echo "$sub: few flags"; echo "$help"; exit 1; }
done
echo ok
