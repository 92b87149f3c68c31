#!/usr/bin/env bash
# The full evaluation of issue 5 (and the base LM's per-language test bits/byte of issue 4):
# `zett-train eval` over data/corpus/test/*.txt with, for every language, its own UnigramLM
# target (data/tokenizers/<lang>, the paper's setting) plus the real-world tokenizers, for the
# methods original, hypernet, fvt, lexical and random. docs/evaluation.md describes the protocol.
#
#   usage: scripts/eval/run_eval.sh ZETT_TRAIN OUT_DIR [extra zett-train eval flags...]
#   e.g.   scripts/eval/run_eval.sh build/gpu/core/train/zett-train /tmp/eval --device=cuda
#          scripts/eval/run_eval.sh build/cmake/core/train/zett-train /tmp/eval --max_bytes=20000
#
# Environment: BASE (models/base-lm), HYPERNET (models/hypernet), DATA (data), LANGS (default: all
# test files), REAL_TOKENIZERS (default: "llama3 qwen3 gemma3 gpt4o mistral-7b gpt2"; those
# present under $DATA/tokenizers are used), METHODS (default: all five).
# Builds missing target tokenizers with scripts/data/train_target_tokenizers.sh. Writes
# OUT_DIR/results.json, OUT_DIR/results.md (all records, one table) and
# OUT_DIR/base_lm_test_bpb.md (the original tokenizer alone per language); prints the table last.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:?usage: run_eval.sh ZETT_TRAIN OUT_DIR [flags...]}
out=${2:?usage: run_eval.sh ZETT_TRAIN OUT_DIR [flags...]}
shift 2
BASE=${BASE:-models/base-lm}
HYPERNET=${HYPERNET:-models/hypernet}
DATA=${DATA:-data}
METHODS=${METHODS:-original,hypernet,fvt,lexical,random}
REAL_TOKENIZERS=${REAL_TOKENIZERS:-llama3 qwen3 gemma3 gpt4o mistral-7b gpt2}
[ -x "$bin" ] || { echo "run_eval: $bin is not an executable (build zett-train first)" >&2; exit 1; }
[ -d "$DATA/corpus/test" ] || { echo "run_eval: no $DATA/corpus/test (scripts/data/build_corpus.sh, or unpack data/bundle.tar.xz)" >&2; exit 1; }
mkdir -p "$out"
if [ -n "${LANGS:-}" ]; then read -ra langs <<<"$LANGS"; else
  mapfile -t langs < <(ls "$DATA/corpus/test" | sed -n 's/\.txt$//p')
fi

# Target tokenizers: per-language Unigram (built if missing) and the real ones. A GPU host gets
# them as $DATA/tokenizers.tar.xz (tar -C data -cJf data/tokenizers.tar.xz tokenizers: ~8 MB
# instead of ~70 MB of JSON, under the 64 MiB a device call carries).
if [ ! -d "$DATA/tokenizers" ] && [ -f "$DATA/tokenizers.tar.xz" ]; then
  tar -C "$DATA" -xJf "$DATA/tokenizers.tar.xz"
fi
missing=()
for lang in "${langs[@]}"; do
  [ -f "$DATA/tokenizers/$lang/tokenizer.json" ] || missing+=("$lang")
done
if [ ${#missing[@]} -gt 0 ] || [ ! -f "$DATA/tokenizers/gpt2/tokenizer.json" ]; then
  if command -v spm_train >/dev/null; then
    ZETT_DATA_DIR="$DATA" bash scripts/data/train_target_tokenizers.sh "${missing[@]}" ||
      echo "run_eval: train_target_tokenizers.sh failed; evaluating the tokenizers present" >&2
  else
    echo "run_eval: spm_train not installed; evaluating the tokenizers present" >&2
  fi
fi
real=()
for name in $REAL_TOKENIZERS; do
  f="$DATA/tokenizers/$name/tokenizer.json"
  if [ -f "$f" ]; then real+=("--target_tokenizer=$f"); else echo "run_eval: no $f, skipped" >&2; fi
done

start=$SECONDS
parts=()
texts=()
for lang in "${langs[@]}"; do texts+=("$DATA/corpus/test/$lang.txt"); done
# evaluate NAME METHODS TEXTS TARGET_FLAGS...: one zett-train eval, OUT_DIR/NAME.{json,md,log}.
evaluate() {
  local name=$1 methods=$2 text=$3
  shift 3
  echo "run_eval: $name ($# target tokenizers, $((SECONDS - start))s so far)" >&2
  "$bin" eval --base="$BASE" --hypernet="$HYPERNET" --text="$text" "$@" --method="$methods" \
    --out="$out/$name.json" --markdown="$out/$name.md" "${extra[@]}" \
    >/dev/null 2>"$out/$name.log" || { echo "run_eval: $name failed:" >&2; tail -5 "$out/$name.log" >&2; exit 1; }
  parts+=("$out/$name.json")
}
extra=("$@")
# The real tokenizers over every language in one process: each target's tables are built once
# (a 152k-row hypernet table is most of an evaluation's time), and the original's records.
evaluate real "$METHODS" "$(IFS=,; echo "${texts[*]}")" "${real[@]}"
# Each language with its own UnigramLM (the original is already scored above).
own_methods=$(tr ',' '\n' <<<"$METHODS" | grep -vx original | paste -sd, || true)
for lang in "${langs[@]}"; do
  own="$DATA/tokenizers/$lang/tokenizer.json"
  [ -f "$own" ] && [ -n "$own_methods" ] || continue
  evaluate "$lang" "$own_methods" "$DATA/corpus/test/$lang.txt" "--target_tokenizer=unigram-$lang=$own"
done
echo "run_eval: ${#langs[@]} languages in $((SECONDS - start))s" >&2

python3 scripts/eval/summarize.py "$out" "${parts[@]}"
