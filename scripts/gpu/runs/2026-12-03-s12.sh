#!/usr/bin/env bash
# Session 12's GPU run (docs/gpu-runs.md), started with setsid, watched by scripts/gpu/collect.sh:
#   1. the bundled hypernetwork retrained at H 384 (session 11's ablation: width helps; H 512 does
#      not fit the repository's 30 MB as a bf16 checkpoint), otherwise the session-6 recipe:
#      B 128 x 256 packed, identity every 2nd step, aux 2, lr 1e-3 cosine to its end, ~1B tokens
#   2. once data/tokenizers.tar.xz has arrived (a later call carries it): the new and the committed
#      checkpoint side by side on identity (18 languages), own-language UnigramLM, Mistral-7B, GPT-2
# Everything goes to /tmp/s12; /tmp/s12/done marks the end; /tmp/s12/hn/hypernet.tar is the
# bf16 checkpoint to commit.
#   usage: mkdir -p /tmp/s12 && setsid bash scripts/gpu/runs/2026-12-03-s12.sh > /tmp/s12/driver.log 2>&1 &
set -uo pipefail
cd "$(dirname "$0")/../../.."
out=/tmp/s12
steps=${STEPS:-30600}  # 30,600 x 128 x 256 = 1.003B positions
mkdir -p "$out"
stage() { echo "== $(date +%T) $*"; }

stage "train: H 384, $steps steps"
SERVER_CHECK=0 TRAIN_FLAGS="--hn_hidden_size=384 ${EXTRA_FLAGS:-}" \
  bash scripts/gpu/train_hypernet.sh "$out/hn" "$steps" "${TRAIN_LIMIT:-1250}" > "$out/train.log" 2>&1
grep -E "^train rc|^valid|bf16 parameters" "$out/train.log" "$out/hn/train.log" | tail -8
rm -f "$out"/hn/state.tar.part-*  # 8 returned files cannot hold it; the run finishes in one hold

stage "wait for data/tokenizers.tar.xz"
for _ in $(seq 1 120); do [ -f data/tokenizers.tar.xz ] && break; sleep 5; done
source scripts/gpu/host_env.sh || exit 1
new=/tmp/hn-new && rm -rf "$new" && mkdir -p "$new" && tar -C "$new" -xf "$out/hn/hypernet.tar"
bin=build/gpu/core/train/zett-train

stage "evaluate: identity, own-language UnigramLM, Mistral-7B, GPT-2; new (with FVT) and committed"
bash scripts/gpu/score_checkpoints.sh "$bin" "$out" "$new" models/hypernet
stage "done"
touch "$out/done"
