#!/usr/bin/env bash
# Session 11's GPU run (docs/gpu-runs.md), started with setsid, watched by scripts/gpu/collect.sh:
#   1. CUDA build + tests (the hypernetwork's bf16 compute over fp32 masters)
#   2. the training-step benchmark, fp32 and bf16 hypernet, ours vs PyTorch eager vs
#      torch.compile of the same precision, traced
#   3. four short recipes side by side (fp32 / bf16 compute; H 512; 6 layers), each scored on
#      validation, identity transfer and en/ru/de own-language zero-shot
# Everything goes to /tmp/s11; /tmp/s11/done marks the end.
#   usage: mkdir -p /tmp/s11 && setsid bash scripts/gpu/runs/2026-12-03-s11.sh > /tmp/s11/driver.log 2>&1 &
set -uo pipefail
cd "$(dirname "$0")/../../.."
out=/tmp/s11
mkdir -p "$out" /tmp/tok
stage() { echo "== $(date +%T) $*"; }

stage "unpack"
tar -C /tmp/tok -xJf data/tokenizers-b.tar.xz
mkdir -p data/tokenizers
for l in en ru de; do [ -d "data/tokenizers/$l" ] || cp -r "/tmp/tok/$l" data/tokenizers/; done

stage "build + tests"
ZETT_TARGETS="hypernet_test hypernet_train_test zett-train" \
  bash scripts/gpu/build_and_test.sh build/gpu > "$out/build_and_test.log" 2>&1
grep -E "tests passed|Failed|\*\*\*|FAILED|PASSED" "$out/build_and_test.log" | tail -8

stage "train step: fp32 and bf16 hypernet; ours vs PyTorch eager vs torch.compile, traced"
TRACE=1 B=128 OURS_STEPS=300 LOG_EVERY=50 TORCH_STEPS=40 \
  bash scripts/bench/train_step.sh build/gpu "$out/train-step" > "$out/train-step.log" 2>&1
tail -12 "$out/train-step.log"

steps=${ABLATION_STEPS:-3000}
stage "recipes: $steps steps each, side by side"
recipe='--identity_every=2 --aux_weight=2'
RUN_LIMIT=${ABLATION_LIMIT:-480} OWN_LANGS="en ru de" \
  bash scripts/gpu/train_ablations.sh "$out/abl" "$steps" \
  fp32="$recipe --hypernet_dtype=float32" \
  bf16="$recipe --hypernet_dtype=bfloat16" \
  bf16-h512="$recipe --hypernet_dtype=bfloat16 --hn_hidden_size=512" \
  bf16-l6="$recipe --hypernet_dtype=bfloat16 --hn_n_layers=6" > "$out/ablations.log" 2>&1
tail -12 "$out/ablations.log"
stage "done"
touch "$out/done"
