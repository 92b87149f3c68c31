#!/usr/bin/env bash
# Compares DIR/tokenizer.json (Rust HF `tokenizers` via its npm binding) with DIR/tokenizer.model
# (libsentencepiece via spm_encode) on every line of data/corpus/<split>/*.txt, and reports per
# language: % of lines with identical ids, tokens per byte, and % of lines that decode back to
# themselves. Ids exclude BOS/EOS.
# Usage: bash scripts/data/verify_tokenizer.sh DIR [split=valid] [lang=all]
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${ZETT_DATA_DIR:-data}
dir=$1
split=${2:-valid}
only=${3:-}
bash scripts/fetch_references.sh >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf "%-8s %7s %9s %10s %10s %8s %9s\n" lang lines identical tokens bytes tok/byte roundtrip
for f in "$DATA/corpus/$split"/*.txt; do
  lang=$(basename "$f" .txt)
  [ -z "$only" ] || [ "$only" = "$lang" ] || continue
  grep -v '^$' "$f" >"$tmp/text" || true
  spm_encode --model="$dir/tokenizer.model" --output_format=id <"$tmp/text" >"$tmp/ids"
  NODE_PATH=.cache/npm/node_modules node scripts/data/compare_tokenizer.js \
    "$dir/tokenizer.json" "$tmp/text" "$tmp/ids" "$lang" "$tmp/diff_$lang.txt"
  [ -s "$tmp/diff_$lang.txt" ] && head -c 1500 "$tmp/diff_$lang.txt" >&2 || true
done
