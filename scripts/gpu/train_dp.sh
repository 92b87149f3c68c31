#!/usr/bin/env bash
# Data-parallel hypernetwork training on a GPU host (issue 8): tokens/s of one GPU, then of
# NGPUS ranks (one process each, shards = NGPUS, so every rank keeps the one-GPU batch), and the
# scaling efficiency = tokens/s(N) / (N × tokens/s(1)).
#   usage: scripts/gpu/train_dp.sh NGPUS OUT_DIR [STEPS]
# NGPUS above the visible GPU count puts several ranks on one GPU: NCCL refuses that, so those
# runs use Gloo (gradients through host memory) — a smoke test of the code path, not a speed test.
# Needs .debs/sysroot.tar.xz and data/bundle.tar.xz (docs/gpu.md, docs/data.md).
set -uo pipefail
cd "$(dirname "$0")/../.."
source scripts/gpu/ranks.sh
ngpus=${1:?usage: train_dp.sh NGPUS OUT_DIR [STEPS]}
out=${2:?usage: train_dp.sh NGPUS OUT_DIR [STEPS]}
steps=${3:-200}
mkdir -p "$out"
out=$(cd "$out" && pwd)
sysroot=/tmp/zett-sysroot
[ -d "$sysroot/usr" ] || { mkdir -p "$sysroot" && tar -C "$sysroot" -xJf .debs/sysroot.tar.xz; }
[ -d data/corpus/train ] || { mkdir -p data && tar -C data -xJf data/bundle.tar.xz; }
torch_dir=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')
export LD_LIBRARY_PATH="$sysroot/usr/lib/x86_64-linux-gnu:$torch_dir/lib:$torch_dir/../nvidia/nccl/lib:${LD_LIBRARY_PATH:-}"
export PATH="/usr/local/cuda/bin:$sysroot/usr/bin:$PATH"
export NCCL_NVLS_ENABLE=0  # NVLink multicast off: it can take a shared host's GPUs out of service
cmake -S . -B build/gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DZETT_WITH_CUDA=ON \
  -DZETT_SYSROOT="$sysroot" -DZETT_TORCH_DIR="$torch_dir" > "$out/configure.log" 2>&1 ||
  { tail -30 "$out/configure.log"; exit 1; }
grep "c10d backends" "$out/configure.log"
cmake --build build/gpu -j"$(nproc)" --target zett-train > "$out/build.log" 2>&1 ||
  { grep -E "error|FAILED" "$out/build.log" | head -20; exit 1; }

visible=$(nvidia-smi -L 2>/dev/null | wc -l)
echo "GPUs visible: $visible; ranks asked: $ngpus"
log_every=$(( steps / 10 > 0 ? steps / 10 : 1 ))

# run_ranks N NAME: N ranks (shards = N), rank 0's log in $out/NAME.rank0.log; prints tok/s.
run_ranks() {
  local n=$1 name=$2 backend=auto rc=0
  [ "$n" -gt "$visible" ] && backend=gloo
  rm -rf "/tmp/zett-dp-$name"
  launch_ranks "$n" "$out/$name" timeout 540 build/gpu/core/train/zett-train train \
    --base=models/base-lm --train_files='data/corpus/train/*.txt' \
    --output_dir="/tmp/zett-dp-$name" --steps="$steps" --shards="$n" --dist_backend=$backend \
    --batch_size=32 --seq_len=256 --lr=1e-3 --warmup_steps=50 --log_every=$log_every \
    --eval_every=1000000 --save_every=1000000 --prefetch=4 || rc=$?
  # Mean of the logged tokens/s after the first interval (warm-up).
  local tps
  tps=$(grep -E "^step " "$out/$name.rank0.log" | sed -E 's/.* ([0-9]+) tok\/s.*/\1/' |
    awk 'NR > 1 { s += $1; n++ } END { if (n) printf "%.0f", s / n; else print 0 }')
  echo "$name: ranks=$n backend=$backend rc=$rc tokens/s=$tps" >&2
  grep -E "^step |trainable parameters" "$out/$name.rank0.log" | tail -3 >&2
  [ "$rc" -eq 0 ] || tail -5 "$out/$name".rank*.log >&2
  echo "$tps"
}

one=$(run_ranks 1 one)
many=$(run_ranks "$ngpus" many)
echo
echo "| ranks | GPUs visible | tokens/s (global) | scaling efficiency |"
echo "|---|---|---|---|"
echo "| 1 | $visible | $one | 1.00 |"
awk -v n="$ngpus" -v v="$visible" -v one="$one" -v many="$many" 'BEGIN {
  eff = (one > 0) ? many / (n * one) : 0
  printf "| %d | %d | %s | %.2f%s |\n", n, v, many, eff, (n > v) ? " (ranks share GPUs: smoke test)" : "" }'
