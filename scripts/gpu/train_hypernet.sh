#!/usr/bin/env bash
# Trains the bundled hypernetwork for models/base-lm on a GPU host, then checks the trained
# checkpoint in the real server there.
#   usage: [NGPUS=N] scripts/gpu/train_hypernet.sh OUT_DIR [STEPS] [TIME_LIMIT_S] [RESUME_DIR]
# The recipe (docs/training.md, from the ablations of scripts/gpu/train_ablations.sh): 128 texts
# x 256 tokens per step and rank (rows packed with further texts), k 8192, lr 1e-3 with warm-up
# and cosine to 0.1x, RECIPE (default: an identity step — the original tokenizer as the batch's
# tokenizer — every 2nd step, aux loss weight 2); TRAIN_FLAGS are appended.
# NGPUS > 1 trains data-parallel, one process per GPU (NCCL); rank 0 validates and saves.
# Needs .debs/sysroot.tar.xz and data/bundle.tar.xz (see docs/gpu.md, docs/data.md).
# Writes OUT_DIR/hypernet.tar (bf16 checkpoint + trainer_state + loss curve), logs, and the whole
# resumable run (fp32 weights, optimizer, sampler) as OUT_DIR/state.tar.part-* (15 MB pieces:
# the device tool returns files up to 16 MiB). RESUME_DIR holds such pieces from an earlier call;
# the run continues from them (same --steps, so the schedule is the uninterrupted one's).
# A run longer than one device call: start it detached (setsid) and collect it in a later call
# of the same hold, e.g. `setsid scripts/gpu/train_hypernet.sh OUT 40000 1500 > OUT.log 2>&1 &`.
# SERVER_CHECK=0 skips the server check at the end.
set -uo pipefail
cd "$(dirname "$0")/../.."
source scripts/gpu/ranks.sh
source scripts/gpu/host_env.sh || exit 1
out=${1:?usage: train_hypernet.sh OUT_DIR [STEPS] [TIME_LIMIT_S]}
steps=${2:-40000}
limit=${3:-560}
resume=${4:-}
mkdir -p "$out"
targets=(zett-train)
[ "${SERVER_CHECK:-1}" = 1 ] && targets+=(zett-server zett-manifest zett hypernet_model_test)
gpu_build build/gpu "${targets[@]}"

run=/tmp/zett-hypernet
mkdir -p "$run"
if [ -n "$resume" ]; then
  cat "$resume"/state.tar.part-* | tar -C "$run" -xf - && echo "resumed from $resume: $(grep -o '"step": *[0-9]*' "$run/trainer_state.json" | head -1)"
fi
start=$SECONDS
ngpus=${NGPUS:-1}
rc=0
recipe=${RECIPE:---identity_every=2 --aux_weight=2}
# shellcheck disable=SC2086
launch_ranks "$ngpus" "$out/train" timeout "$limit" build/gpu/core/train/zett-train train \
  --base=models/base-lm --train_files='data/corpus/train/*.txt' \
  --valid_files='data/corpus/valid/*.txt' --output_dir="$run" --steps="$steps" \
  --batch_size="${B:-128}" --seq_len=256 --lr="${LR:-1e-3}" --warmup_steps=$((steps / 40)) \
  $recipe --log_every=200 --eval_every=2000 --save_every=1000 \
  ${TRAIN_FLAGS:-} || rc=$?
mv "$out/train.rank0.log" "$out/train.log"  # rank 0 validates and saves: its log is the run's
echo "train rc=$rc ranks=$ngpus wall=$((SECONDS - start))s"
grep -E "^step|^valid" "$out/train.log" | tail -12

tar -C "$run" -cf - . | split -b 15M - "$out/state.tar.part-"

# bf16 weights for the repository (the loader accepts any float dtype), in a copy: the run
# itself keeps its fp32 weights to resume from.
bf16=$out/hypernet-bf16
rm -rf "$bf16" && mkdir -p "$bf16"
for f in config.json model.safetensors tokenizer.json tokenizer_config.json \
  special_tokens_map.json trainer_state.json loss_curve.png; do
  [ -f "$run/$f" ] && cp "$run/$f" "$bf16/"
done
python3 scripts/gpu/bf16_checkpoint.py "$bf16"
tar -C "$bf16" -cf "$out/hypernet.tar" .
[ "${SERVER_CHECK:-1}" = 1 ] || exit 0

# The trained checkpoint in the real server, on the GPU.
build/gpu/tests/server/hypernet_model_test 2>&1 | tail -3
repo=/tmp/zett-repo/default/1
mkdir -p "$repo" && cp -r models/base-lm "$repo/base" && mkdir -p "$repo/hypernet" &&
  tar -C "$repo/hypernet" -xf "$out/hypernet.tar" && build/gpu/server/zett-manifest "$repo"
build/gpu/server/zett-server --model-repository /tmp/zett-repo --listen 127.0.0.1:50151 \
  > "$out/server.log" 2>&1 &
server=$!
for _ in $(seq 1 60); do build/gpu/client/zett health --server 127.0.0.1:50151 > /dev/null 2>&1 && break; sleep 0.5; done
for target in data/tokenizers/*/tokenizer.json; do
  [ -f "$target" ] || continue
  s=$(date +%s%N)
  build/gpu/client/zett transfer --server 127.0.0.1:50151 --model default --tokenizer "$target" \
    --out "/tmp/transfer-$(basename "$(dirname "$target")")" > /dev/null 2>&1
  echo "transfer $(basename "$(dirname "$target")") rc=$? $(( ($(date +%s%N) - s) / 1000000 )) ms"
done
kill "$server"
tail -5 "$out/server.log"
