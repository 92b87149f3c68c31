#!/usr/bin/env bash
# `zett <command> --help` (and -h) exits 0 and lists the command's flags; `zett --help` points
# there; an unknown command still fails.
set -euo pipefail
bin="$1"
root="${TEST_SRCDIR:+$TEST_SRCDIR/zett}"
root="${root:-$(cd "$(dirname "$0")/../.." && pwd)}"
# shellcheck source=tests/expect_lines.sh
source "$root/tests/expect_lines.sh"

expect "$("$bin" --help)" "zett <command> --help" "transfer" "apply" "bench"
expect "$("$bin" transfer --help)" "usage: zett transfer --server ADDR --model NAME" \
  "--tokenizer PATH" "--out DIR" "--dtype fp32|bf16|fp16" "--token-kind" "--special-tokens" \
  "connection flags:" "--bearer-token-file PATH" "--tls-ca PEM" "--timeout SECONDS"
expect "$("$bin" apply -h)" "usage: zett apply --base DIR" "--embeddings DIR" "--force" \
  "--finetuned DIR [--lambda 1]" \
  "connection flags:"
expect "$("$bin" tokenize --help)" "--input FILE" "--output FILE" "--add-special-tokens"
expect "$("$bin" convert --help)" "--tokenizer MODEL.model" "--output FILE"
expect "$("$bin" decompose --help)" "--original PATH" "--target PATH" "--max-len 7"
expect "$("$bin" bench --help)" "--rpc transfer|predict_tokens" "--streams 4" "--tokens 64"
for command in models health; do
  expect "$("$bin" "$command" --help)" "--server ADDR" "connection flags:"
done
# --help wins over missing required flags, and names no server.
"$bin" transfer --model x --help > /dev/null
if "$bin" no-such-command --help > /dev/null 2>&1; then echo "unknown command accepted"; exit 1; fi
echo ok
