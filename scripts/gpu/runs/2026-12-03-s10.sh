#!/usr/bin/env bash
# Session 10's GPU run (docs/gpu-runs.md), started with setsid, watched by scripts/gpu/collect.sh:
#   1. CUDA build + tests of the new continued-training batches (training text encoded once)
#   2. continued-training curves (issue 14) to ~100M tokens: en, ru, de; from the hypernetwork
#      and from FVT at lr 1e-3 and 3e-3 (the oracle = the best any run reaches)
#   3. the training-step benchmark with a Kineto trace of each implementation
# Everything goes to /tmp/s10; /tmp/s10/done marks the end.
#   usage: mkdir -p /tmp/s10 && setsid bash scripts/gpu/runs/2026-12-03-s10.sh > /tmp/s10/driver.log 2>&1 &
set -uo pipefail
cd "$(dirname "$0")/../../.."
out=/tmp/s10
mkdir -p "$out" /tmp/tok
stage() { echo "== $(date +%T) $*"; }

stage "unpack"
tar -C /tmp/tok -xJf data/tokenizers-b.tar.xz
mkdir -p data/tokenizers
for l in en ru de; do [ -d "data/tokenizers/$l" ] || cp -r "/tmp/tok/$l" data/tokenizers/; done

stage "build + tests"
ZETT_TARGETS="encoded_texts_test continue_train_test zett-train" \
  bash scripts/gpu/build_and_test.sh build/gpu > "$out/build_and_test.log" 2>&1
grep -E "tests passed|Failed|\*\*\*" "$out/build_and_test.log"

steps=${CURVE_STEPS:-3200}
stage "continued-training curves: $steps steps of 128 x 256, lr 1e-3 and 3e-3"
CURVES_BUILD=0 B=128 ENCODE_THREADS=2 EVAL_EVERY=$((steps / 20)) LR=1e-3 \
  bash scripts/gpu/continue_curves.sh "$out/curves" "$steps" "${CURVE_LIMIT:-900}" \
  > "$out/curves-lr1e-3.log" 2>&1 &
CURVES_BUILD=0 B=128 ENCODE_THREADS=2 EVAL_EVERY=$((steps / 20)) LR=3e-3 TAG=-lr3e-3 \
  bash scripts/gpu/continue_curves.sh "$out/curves" "$steps" "${CURVE_LIMIT:-900}" \
  > "$out/curves-lr3e-3.log" 2>&1 &
wait
python3 scripts/eval/continue_table.py "$out/curves" > "$out/curves-table.md"
cat "$out/curves-table.md"

stage "train step: ours vs PyTorch eager vs torch.compile, traced"
TRACE=1 B=128 OURS_STEPS=300 LOG_EVERY=50 TORCH_STEPS=40 \
  bash scripts/bench/train_step.sh build/gpu "$out/train-step" > "$out/train-step.log" 2>&1
tail -30 "$out/train-step.log"
stage "done"
touch "$out/done"
