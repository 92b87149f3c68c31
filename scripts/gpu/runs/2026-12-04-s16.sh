#!/usr/bin/env bash
# Session 16's first GPU call (docs/gpu-runs.md): the fused cross-entropy (core/train/
# cross_entropy.h) on the H200.
#   1. build zett-train and the training tests (CUDA kernels with nvcc), run them on the GPU
#   2. the training step, B 128 x 256, bf16 hypernet: ours fused (with a Kineto trace) vs PyTorch
#      eager and torch.compile, then ours with --fused_cross_entropy=false, then ours fused at B 256
#   usage: bash scripts/gpu/runs/2026-12-04-s16.sh WORK_DIR [RETURN_DIR]   (prints a table last;
#   the logs go to RETURN_DIR/s16-logs.tgz)
set -uo pipefail
cd "$(dirname "$0")/../../.."
out=${1:?usage: 2026-12-04-s16.sh WORK_DIR [RETURN_DIR]}
mkdir -p "$out"
stage() { echo "== $(date +%T) $*"; }
source scripts/gpu/host_env.sh || exit 1
tests="cross_entropy_test pretrain_test continue_train_test hypernet_train_test"

stage "build zett-train and $tests"
start=$SECONDS
gpu_build build/gpu zett-train $tests
echo "build wall=$((SECONDS - start))s"
for t in $tests; do
  timeout 240 "build/gpu/tests/core/train/$t" > "$out/$t.log" 2>&1
  echo "$t rc=$? $(grep -E '^\[  (PASSED|FAILED|SKIPPED) ' "$out/$t.log" | tr '\n' ' ')"
done

stage "step: fused, with PyTorch eager and torch.compile"
B=128 OURS_STEPS=300 LOG_EVERY=50 TORCH_STEPS=40 HN_DTYPES=bfloat16 TRACE=1 \
  bash scripts/bench/train_step.sh build/gpu "$out/fused" > "$out/fused.log" 2>&1
stage "step: unfused (--fused_cross_entropy=false)"
B=128 OURS_STEPS=300 LOG_EVERY=50 HN_DTYPES=bfloat16 TORCH=0 TRACE=1 \
  OURS_FLAGS=--fused_cross_entropy=false \
  bash scripts/bench/train_step.sh build/gpu "$out/unfused" > "$out/unfused.log" 2>&1
stage "step: fused, B 256"
B=256 OURS_STEPS=300 LOG_EVERY=50 HN_DTYPES=bfloat16 TORCH=0 \
  bash scripts/bench/train_step.sh build/gpu "$out/b256" > "$out/b256.log" 2>&1

rm -f "$out"/*/trace-*.json  # summarised in the logs
for run in fused unfused b256; do
  echo "---- $run"
  grep -vE "^(== |ours rc|torch rc|step |hypernet )" "$out/$run.log" | grep -E "^\||^ours|kernels, span" | tail -44
done
[ -n "${2:-}" ] && tar -C "$out" -czf "$2/s16-logs.tgz" $(cd "$out" && find . -name "*.log")
