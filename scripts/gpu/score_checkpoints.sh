#!/usr/bin/env bash
# Scores two hypernetwork checkpoints for models/base-lm side by side on the GPU, as the session
# drivers (scripts/gpu/runs/) compare a new run with the one before it: identity transfer on
# every test language, then own-language UnigramLM, Mistral-7B and GPT-2 (FVT with the new one),
# the first 40 kB of each test file; prints scripts/eval/compare_checkpoints.py's table.
#   usage: scripts/gpu/score_checkpoints.sh ZETT_TRAIN OUT NEW_DIR OLD_DIR
# Writes OUT/identity-{new,old}.{json,md,log}, OUT/eval-{new,old}/, OUT/compare.md.
set -uo pipefail
cd "$(dirname "$0")/../.."
bin=${1:?usage: score_checkpoints.sh ZETT_TRAIN OUT NEW_DIR OLD_DIR}
out=${2:?}
new=${3:?}
old=${4:?}
mkdir -p "$out"
texts=$(ls data/corpus/test/*.txt | paste -sd,)
for pair in new="$new" old="$old"; do
  name=${pair%%=*} dir=${pair#*=}
  "$bin" eval --base=models/base-lm --hypernet="$dir" \
    --target_tokenizer=identity=models/base-lm/tokenizer.json --text="$texts" \
    --method=original,hypernet --max_bytes=40000 --device=cuda \
    --out="$out/identity-$name.json" --markdown="$out/identity-$name.md" > /dev/null 2> "$out/identity-$name.log" &
done
wait
METHODS=original,hypernet,fvt REAL_TOKENIZERS="mistral-7b gpt2" HYPERNET="$new" \
  bash scripts/eval/run_eval.sh "$bin" "$out/eval-new" --device=cuda --max_bytes=40000 \
  > "$out/eval-new.log" 2>&1 &
METHODS=original,hypernet REAL_TOKENIZERS="mistral-7b gpt2" HYPERNET="$old" \
  bash scripts/eval/run_eval.sh "$bin" "$out/eval-old" --device=cuda --max_bytes=40000 \
  > "$out/eval-old.log" 2>&1 &
wait
python3 scripts/eval/compare_checkpoints.py "$out" | tee "$out/compare.md"
