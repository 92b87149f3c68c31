#!/usr/bin/env bash
# Pretrains the bundled base LM on a GPU host (after scripts/gpu/build_and_test.sh).
#   usage: scripts/gpu/pretrain_base_lm.sh OUTPUT_DIR [extra zett-train flags]
# Needs data/bundle.tar.xz (scripts/data/build_corpus.sh) and models/base-tokenizer/.
# Rerunning with the same OUTPUT_DIR resumes from its last checkpoint.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:?usage: pretrain_base_lm.sh OUTPUT_DIR [flags]}
shift
data=${ZETT_DATA_DIR:-/tmp/zett-data}
if [ ! -d "$data/corpus/train" ]; then
  mkdir -p "$data"
  tar -C "$data" -xJf data/bundle.tar.xz
fi
torch_dir=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))')
export LD_LIBRARY_PATH="${ZETT_SYSROOT:-/tmp/zett-sysroot}/usr/lib/x86_64-linux-gnu:$torch_dir/lib:${LD_LIBRARY_PATH:-}"
build=${ZETT_BUILD_DIR:-build/gpu}
"$build/core/train/zett-train" pretrain \
  --train_files="$data/corpus/train/*.txt" --valid_files="$data/corpus/valid/*.txt" \
  --tokenizer_dir=models/base-tokenizer --output_dir="$out" \
  --steps=6000 --batch_size=64 --seq_len=512 --lr=2e-3 --warmup_steps=200 \
  --log_every=200 --eval_every=1000 --save_every=1000 --device=cuda \
  --tokenizer_threads="$(nproc)" "$@"
