#!/usr/bin/env bash
# Session 17, second run (docs/gpu-runs.md): the H 384 run of 2026-12-04-s17.sh ended with
# identity within 1 % on 17 of 18 languages (fr 1.0105x). This resumes the same run directory
# (/tmp/zett-hypernet, fp32 weights + optimizer) for 1,000 more steps, all identity steps, at the
# schedule's floor (lr ~1e-4: --steps 31,600 puts step 30,600 at 97 % of the cosine), then scores
# the result against the step-30,600 checkpoint: identity (18 languages), own-language UnigramLM,
# Mistral-7B, GPT-2. Needs the machine that ran s17.sh (its run directory and build).
#   usage: bash scripts/gpu/runs/2026-12-04-s17b.sh   (writes /tmp/s17b; /tmp/s17b/hn/hypernet.tar)
set -uo pipefail
cd "$(dirname "$0")/../../.."
out=/tmp/s17b
prev=/tmp/s17
mkdir -p "$out"
stage() { echo "== $(date +%T) $*"; }
[ -f /tmp/zett-hypernet/trainer_state.json ] || { echo "no /tmp/zett-hypernet: a fresh machine"; exit 3; }

stage "identity polish: steps 30,600 -> 31,600, identity every step"
SERVER_CHECK=0 RECIPE="--identity_every=1 --aux_weight=2" TRAIN_FLAGS="--hn_hidden_size=384" \
  bash scripts/gpu/train_hypernet.sh "$out/hn" 31600 400 > "$out/train.log" 2>&1
grep -E "^resumed|^resuming|^train rc|^valid|bf16 parameters" "$out/train.log" "$out/hn/train.log" | tail -6
rm -f "$out"/hn/state.tar.part-*

source scripts/gpu/host_env.sh || exit 1
new=/tmp/hn-polished && rm -rf "$new" && mkdir -p "$new" && tar -C "$new" -xf "$out/hn/hypernet.tar"
texts=$(ls data/corpus/test/*.txt | paste -sd,)
bin=build/gpu/core/train/zett-train
# The step-30,600 checkpoint's scores (same call of s17.sh's machine) as the "old" side.
cp "$prev/identity-new.json" "$out/identity-old.json"
rm -rf "$out/eval-old" && cp -r "$prev/eval-new" "$out/eval-old"

stage "evaluate the polished checkpoint: identity, own-language, Mistral-7B, GPT-2"
"$bin" eval --base=models/base-lm --hypernet="$new" \
  --target_tokenizer=identity=models/base-lm/tokenizer.json --text="$texts" \
  --method=original,hypernet --max_bytes=40000 --device=cuda \
  --out="$out/identity-new.json" --markdown="$out/identity-new.md" > /dev/null 2> "$out/identity-new.log"
METHODS=original,hypernet REAL_TOKENIZERS="mistral-7b gpt2" HYPERNET="$new" \
  bash scripts/eval/run_eval.sh "$bin" "$out/eval-new" --device=cuda --max_bytes=40000 \
  > "$out/eval-new.log" 2>&1
python3 scripts/eval/compare_checkpoints.py "$out" | tee "$out/compare.md"
stage "done"
touch "$out/done"
