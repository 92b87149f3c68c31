#!/usr/bin/env bash
# Session 16's first GPU call (docs/gpu-runs.md): the fused cross-entropy (core/train/
# cross_entropy.h) on the H200.
#   1. build zett-train and the training tests (CUDA kernels with nvcc), run them on the GPU
#   2. the training step, B 128 x 256, bf16 hypernet, in VARIANTS (default, call 1: ours fused
#      with a Kineto trace vs PyTorch eager and torch.compile, ours with
#      --fused_cross_entropy=false, ours fused at B 256); call 2 (the flat parameter cast):
#      VARIANTS="flat:TORCH=1,TRACE=1 percast:TORCH=0,TRACE=1,OURS_FLAGS=--flat_cast=false b256:B=256,TORCH=0"
#   usage: bash scripts/gpu/runs/2026-12-04-s16.sh WORK_DIR [RETURN_DIR]   (prints a table last;
#   the logs go to RETURN_DIR/s16-logs.tgz)
set -uo pipefail
cd "$(dirname "$0")/../../.."
out=${1:?usage: 2026-12-04-s16.sh WORK_DIR [RETURN_DIR]}
mkdir -p "$out"
stage() { echo "== $(date +%T) $*"; }
source scripts/gpu/host_env.sh || exit 1
tests="cross_entropy_test flat_adamw_test pretrain_test continue_train_test hypernet_train_test"

stage "build zett-train and $tests"
start=$SECONDS
gpu_build build/gpu zett-train $tests
echo "build wall=$((SECONDS - start))s"
for t in $tests; do
  timeout 240 "build/gpu/tests/core/train/$t" > "$out/$t.log" 2>&1
  echo "$t rc=$? $(grep -E '^\[  (PASSED|FAILED|SKIPPED) ' "$out/$t.log" | tr '\n' ' ')"
done

# name:settings (env of train_step.sh, B 128 x 256 bf16 hypernet unless told), one run each.
variants=${VARIANTS:-"fused:TORCH=1,TRACE=1 unfused:TORCH=0,TRACE=1,OURS_FLAGS=--fused_cross_entropy=false b256:B=256,TORCH=0"}
names=""
for v in $variants; do
  name=${v%%:*} settings=${v#*:}
  names="$names $name"
  stage "step: $name ($settings)"
  env B=128 OURS_STEPS=300 LOG_EVERY=50 TORCH_STEPS=40 HN_DTYPES=bfloat16 ${settings//,/ } \
    bash scripts/bench/train_step.sh build/gpu "$out/$name" > "$out/$name.log" 2>&1
done
rm -f "$out"/*/trace-*.json  # summarised in the logs
for run in $names; do
  echo "---- $run"
  sed -n '/^ours, .*kernels, span/,+16p' "$out/$run.log"  # our trace: classes, top kernels
  grep -E "kernels, span" "$out/$run.log" | grep -v "^ours"
  grep -E "^ours \(" "$out/$run.log"
  grep -A5 "^| implementation" "$out/$run.log"
done
[ -n "${2:-}" ] && tar -C "$out" -czf "$2/s16-logs.tgz" $(cd "$out" && find . -name "*.log")
