#!/usr/bin/env bash
# Trains the bundled hypernetwork for models/base-lm on a GPU host, then checks the trained
# checkpoint in the real server there.
#   usage: [NGPUS=N] scripts/gpu/train_hypernet.sh OUT_DIR [STEPS] [TIME_LIMIT_S] [RESUME_DIR]
# NGPUS > 1 trains data-parallel, one process per GPU (NCCL), each rank with its own batch of 32
# texts (docs/training.md); rank 0 validates and saves.
# Needs .debs/sysroot.tar.xz and data/bundle.tar.xz (see docs/gpu.md, docs/data.md).
# Writes OUT_DIR/hypernet.tar (bf16 checkpoint + trainer_state + loss curve), logs, and the whole
# resumable run (fp32 weights, optimizer, sampler) as OUT_DIR/state.tar.part-* (15 MB pieces:
# the device tool returns files up to 16 MiB). RESUME_DIR holds such pieces from an earlier call;
# the run continues from them (same --steps, so the schedule is the uninterrupted one's).
set -uo pipefail
cd "$(dirname "$0")/../.."
source scripts/gpu/ranks.sh
out=${1:?usage: train_hypernet.sh OUT_DIR [STEPS] [TIME_LIMIT_S]}
steps=${2:-3000}
limit=${3:-360}
resume=${4:-}
sysroot=/tmp/zett-sysroot
mkdir -p "$sysroot" data && tar -C "$sysroot" -xJf .debs/sysroot.tar.xz
[ -d data/corpus/train ] || tar -C data -xJf data/bundle.tar.xz
torch_dir=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')
export LD_LIBRARY_PATH="$sysroot/usr/lib/x86_64-linux-gnu:$torch_dir/lib" PATH="/usr/local/cuda/bin:$sysroot/usr/bin:$PATH"
cmake -S . -B build/gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DZETT_WITH_CUDA=ON \
  -DZETT_SYSROOT="$sysroot" -DZETT_TORCH_DIR="$torch_dir" > /dev/null
# Everything this script runs, in one build (the server check below needs the last four).
cmake --build build/gpu -j"$(nproc)" --target zett-train zett-server zett-manifest zett \
  hypernet_model_test 2>&1 | grep -E "error|FAILED"

run=/tmp/zett-hypernet
mkdir -p "$run"
if [ -n "$resume" ]; then
  cat "$resume"/state.tar.part-* | tar -C "$run" -xf - && echo "resumed from $resume: $(grep -o '"step": *[0-9]*' "$run/trainer_state.json" | head -1)"
fi
start=$SECONDS
ngpus=${NGPUS:-1}
export NCCL_NVLS_ENABLE=0 LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$torch_dir/../nvidia/nccl/lib"
rc=0
launch_ranks "$ngpus" "$out/train" timeout "$limit" build/gpu/core/train/zett-train train \
  --base=models/base-lm --train_files='data/corpus/train/*.txt' \
  --valid_files='data/corpus/valid/*.txt' --output_dir="$run" --steps="$steps" --batch_size=32 \
  --seq_len=256 --lr=1e-3 --warmup_steps=300 --log_every=100 --eval_every=500 --save_every=250 \
  --prefetch=4 || rc=$?
mv "$out/train.rank0.log" "$out/train.log"  # rank 0 validates and saves: its log is the run's
echo "train rc=$rc ranks=$ngpus wall=$((SECONDS - start))s"
grep -E "^step|^valid" "$out/train.log" | tail -12

tar -C "$run" -cf - . | split -b 15M - "$out/state.tar.part-"

# bf16 weights for the repository (the loader accepts any float dtype).
python3 - "$run" <<'PY'
import sys, torch
from safetensors.torch import load_file, save_file
path = sys.argv[1] + "/model.safetensors"
tensors = {k: (v.to(torch.bfloat16) if v.is_floating_point() else v) for k, v in load_file(path).items()}
save_file(tensors, path, metadata={"format": "pt"})
print("bf16 parameters:", sum(v.numel() for v in tensors.values()))
PY
tar -C "$run" -cf "$out/hypernet.tar" config.json model.safetensors tokenizer.json \
  trainer_state.json loss_curve.png

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
