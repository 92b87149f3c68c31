#!/usr/bin/env bash
# Session 9's GPU run (docs/gpu-runs.md), started with setsid and watched by later calls:
#   1. CUDA build + the tests of the new code (row buckets, warm-up, attention, server model)
#   2. scripts/bench/mistral_shape.sh with the defaults (issue 13: first request vs warm)
#   3. two ablations of the warm-up, transfers only: --attention=auto, --row_buckets_per_octave=0
#   4. continued-training curves (issue 14) for CURVE_LIMIT seconds
# Everything goes to /tmp/s9; a later call packs what it needs (a call brings back ≤ 8 files).
#   usage: setsid bash scripts/gpu/runs/2026-12-03.sh > /tmp/s9/driver.log 2>&1 &
set -uo pipefail
cd "$(dirname "$0")/../../.."
out=/tmp/s9
mkdir -p "$out" /tmp/tok
stage() { echo "== $(date +%T) $*"; }

stage "unpack"
tar -C /tmp/tok -xJf data/tokenizers-b.tar.xz
for t in llama2:mistral-7b gpt2:gpt2 llama3:llama3; do
  mkdir -p "/tmp/npm/tokenizer-${t%%:*}/models"
  cp "/tmp/tok/${t#*:}/tokenizer.json" "/tmp/npm/tokenizer-${t%%:*}/models/"
done
mkdir -p data/tokenizers
for l in en ru de; do [ -d "data/tokenizers/$l" ] || cp -r "/tmp/tok/$l" data/tokenizers/; done

stage "build + tests"
ZETT_TARGETS="row_buckets_test surface_attention_test hypernet_test hypernet_model_test \
continue_train_test zett-server zett-manifest zett hypernet_forward zett-train" \
  bash scripts/gpu/build_and_test.sh build/gpu > "$out/build_and_test.log" 2>&1
grep -E "tests passed|Failed|\*\*\*" "$out/build_and_test.log"

stage "mistral shape, defaults"
ZETT_NPM=/tmp/npm BENCH_REBUILD=0 bash scripts/bench/mistral_shape.sh build/gpu "$out/bench" \
  > "$out/bench.log" 2>&1
tail -22 "$out/bench.log"

for abl in "auto:--attention=auto" "nobuckets:--row_buckets_per_octave=0"; do
  name=${abl%%:*}
  stage "ablation $name (${abl#*:})"
  mkdir -p "$out/$name"
  cp "$out/bench/shape.json" "$out/$name/"
  ln -sfn "$out/bench/repo" "$out/$name/repo"
  ln -sfn "$out/bench/targets" "$out/$name/targets"
  ZETT_NPM=/tmp/npm BENCH_REBUILD=0 TRANSFERS_ONLY=1 SERVER_FLAGS="${abl#*:}" \
    bash scripts/bench/mistral_shape.sh build/gpu "$out/$name" > "$out/$name.log" 2>&1
  grep -E "first request|AVAILABLE \(" "$out/$name.log"
done

stage "continued-training curves, ${CURVE_LIMIT:-840} s"
B=128 ENCODE_THREADS=2 bash scripts/gpu/continue_curves.sh "$out/curves" "${CURVE_STEPS:-3000}" \
  "${CURVE_LIMIT:-840}" > "$out/curves.log" 2>&1
tail -12 "$out/curves.log"
stage "done"
