#!/usr/bin/env bash
# Session 11's second GPU call (docs/gpu-runs.md): after the first call's trace showed the bf16
# hypernet's attention in cuDNN's fused kernels (7.5 ms of a 28.8 ms step), the training copy
# computes attention explicitly. Build + the CUDA training tests, the step benchmark in both
# precisions (traced), and the bf16 step at B 256. Prints a short table last.
#   usage: bash scripts/gpu/runs/2026-12-03-s11b.sh OUT_DIR
set -uo pipefail
cd "$(dirname "$0")/../../.."
out=${1:?usage: 2026-12-03-s11b.sh OUT_DIR}
mkdir -p "$out"
stage() { echo "== $(date +%T) $*"; }

stage "build + tests"
ZETT_TARGETS="hypernet_test hypernet_train_test zett-train" \
  bash scripts/gpu/build_and_test.sh build/gpu > "$out/build_and_test.log" 2>&1
grep -E "tests passed|Failed|\*\*\*|FAILED|Failure|actual:" "$out/build_and_test.log" | tail -12

stage "train step: fp32 and bf16 hypernet; ours vs PyTorch eager vs torch.compile, traced"
TRACE=1 B=128 OURS_STEPS=300 LOG_EVERY=50 TORCH_STEPS=40 \
  bash scripts/bench/train_step.sh build/gpu "$out/train-step" > "$out/train-step.log" 2>&1

stage "ours alone, bf16 hypernet, B 256"
COMPILE=0 HN_DTYPES=bfloat16 B=256 OURS_STEPS=300 LOG_EVERY=50 TORCH_STEPS=10 \
  bash scripts/bench/train_step.sh build/gpu "$out/train-step-b256" > "$out/train-step-b256.log" 2>&1
grep -A12 "^ours, " "$out/train-step.log" | grep -E "^ours|^\| (class|gemm|elementwise|gather|attention|norm|other)"
tail -9 "$out/train-step-b256.log" | grep "^| ours"
tail -9 "$out/train-step.log"
stage "done"
