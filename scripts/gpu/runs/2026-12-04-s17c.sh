#!/usr/bin/env bash
# Session 17, third run (docs/gpu-runs.md; not yet run): the machine of 2026-12-04-s17.sh was
# released with its run directory, so the identity polish starts from the step-30,600 bf16
# checkpoint itself, placed in models/hypernet first (`git checkout 888fe0b -- models/hypernet`):
# 1,000 steps, all identity steps, lr 1e-4 (the
# schedule's floor of the main run) cosine to 1e-5, fresh AdamW (--init_hypernet); then identity
# (18 languages), own-language UnigramLM, Mistral-7B and GPT-2 scores of the result beside the
# checkpoint it started from (scripts/gpu/score_checkpoints.sh).
# Carry .debs/sysroot.tar.xz, data/bundle-slim.tar.xz (the first 1.5 MB of each training file and
# the test files) and data/tokenizers-slim.tar.xz (the 20 target tokenizer.json files): the full
# bundle and tokenizers do not fit one call beside the sysroot and an 11.9 MB checkpoint.
# Made on the Debian machine after scripts/data/build_corpus.sh and train_target_tokenizers.sh:
#   mkdir -p /tmp/slim/corpus/{train,test}; for f in data/corpus/train/*.txt; do
#     head -c 1500000 "$f" > /tmp/slim/corpus/train/$(basename "$f"); done
#   cp data/corpus/test/*.txt /tmp/slim/corpus/test/
#   tar -C /tmp/slim -cf - corpus | xz -9 > data/bundle-slim.tar.xz
#   (cd data && tar -cf - $(for l in $(ls corpus/train | sed 's/.txt$//') mistral-7b gpt2; do
#     echo tokenizers/$l/tokenizer.json; done) | xz -9 > tokenizers-slim.tar.xz)
#   usage: bash scripts/gpu/runs/2026-12-04-s17c.sh OUT   (OUT/hypernet.tar, OUT/results.tar.gz)
set -uo pipefail
cd "$(dirname "$0")/../../.."
ret=${1:?usage: 2026-12-04-s17c.sh OUT}
out=/tmp/s17c
mkdir -p "$out" data
stage() { echo "== $(date +%T) $*"; }
[ -d data/corpus/train ] || tar -C data -xJf data/bundle-slim.tar.xz
[ -d data/tokenizers ] || tar -C data -xJf data/tokenizers-slim.tar.xz
source scripts/gpu/host_env.sh || exit 1
stage "build zett-train"
gpu_build build/gpu zett-train
bin=build/gpu/core/train/zett-train

stage "identity polish: 1,000 identity steps from models/hypernet"
"$bin" train --base=models/base-lm --train_files='data/corpus/train/*.txt' \
  --output_dir="$out/run" --init_hypernet=models/hypernet --steps=1000 --batch_size=128 \
  --seq_len=256 --lr=1e-4 --warmup_steps=50 --min_lr_ratio=0.1 --identity_every=1 \
  --aux_weight=2 --log_every=100 --eval_every=100000 --save_every=1000 > "$out/train.log" 2>&1
echo "train rc=$?"; grep -E "^step" "$out/train.log" | tail -3

new=$out/hn-bf16 && rm -rf "$new" && mkdir -p "$new"
for f in config.json model.safetensors tokenizer.json tokenizer_config.json \
  special_tokens_map.json trainer_state.json loss_curve.png; do
  [ -f "$out/run/$f" ] && cp "$out/run/$f" "$new/"
done
python3 scripts/gpu/bf16_checkpoint.py "$new"
tar -C "$new" -cf "$ret/hypernet.tar" .

stage "score the polished checkpoint against models/hypernet (the step-30,600 one)"
bash scripts/gpu/score_checkpoints.sh "$bin" "$out" "$new" models/hypernet
stage "done"
(cd "$out" && find . -type f \( -name '*.log' -o -name '*.json' -o -name '*.md' \) -size -1000k -print0 |
  tar --null -czf "$ret/results.tar.gz" -T -)
