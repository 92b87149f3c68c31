#!/usr/bin/env bash
# Session 17's GPU run (docs/gpu-runs.md): session 14's plan (lost three times when a turn between
# calls was lost) with session 16's step. The first call carries the sysroot and the corpus
# bundle; the evaluation waits for data/tokenizers.tar.xz, which the next call carries (one call
# cannot carry all three).
#   1. the bundled hypernetwork retrained at H 384 (session 11: width helps; H 512 does not fit
#      the repository's 30 MB in bf16), the session-6 recipe otherwise: B 128 x 256 packed,
#      identity every 2nd step, aux 2, lr 1e-3 cosine to its end, 30,600 steps = 1.003B positions,
#      now with session 16's step (fused cross-entropy, one-kernel parameter cast)
#   2. the new and the committed checkpoint side by side: identity (18 languages), own-language
#      UnigramLM, Mistral-7B, GPT-2 (FVT with the new one)
# Everything goes to /tmp/s17; /tmp/s17/done marks the end; /tmp/s17/hn/hypernet.tar is the bf16
# checkpoint to commit, copied to /tmp/s17/hypernet.tar as soon as it exists.
#   usage: mkdir -p /tmp/s17 && setsid bash scripts/gpu/runs/2026-12-04-s17.sh > /tmp/s17/driver.log 2>&1 &
set -uo pipefail
cd "$(dirname "$0")/../../.."
out=/tmp/s17
steps=${STEPS:-30600}
mkdir -p "$out"
stage() { echo "== $(date +%T) $*"; }

stage "train: H 384, $steps steps"
SERVER_CHECK=0 TRAIN_FLAGS="--hn_hidden_size=384 ${EXTRA_FLAGS:-}" \
  bash scripts/gpu/train_hypernet.sh "$out/hn" "$steps" "${TRAIN_LIMIT:-1100}" > "$out/train.log" 2>&1
cp "$out/hn/hypernet.tar" "$out/hypernet.tar" 2>/dev/null
grep -E "^train rc|^valid|bf16 parameters" "$out/train.log" "$out/hn/train.log" | tail -8
rm -f "$out"/hn/state.tar.part-*  # 8 returned files cannot hold it (72 MB at H 384)

stage "wait for data/tokenizers.tar.xz"
for _ in $(seq 1 240); do [ -f data/tokenizers.tar.xz ] && break; sleep 5; done
source scripts/gpu/host_env.sh || exit 1
new=/tmp/hn-new && rm -rf "$new" && mkdir -p "$new" && tar -C "$new" -xf "$out/hn/hypernet.tar"
bin=build/gpu/core/train/zett-train

stage "evaluate: identity, own-language UnigramLM, Mistral-7B, GPT-2; new (with FVT) and committed"
bash scripts/gpu/score_checkpoints.sh "$bin" "$out" "$new" models/hypernet
stage "done"
touch "$out/done"
