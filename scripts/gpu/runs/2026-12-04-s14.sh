#!/usr/bin/env bash
# Session 14's GPU run (docs/gpu-runs.md), started with setsid, watched by scripts/gpu/collect.sh:
#   1. the bundled hypernetwork retrained at H 384 (session 11's ablation: width helps; H 512 does
#      not fit the repository's 30 MB as a bf16 checkpoint), otherwise the session-6 recipe:
#      B 128 x 256 packed, identity every 2nd step, aux 2, lr 1e-3 cosine to its end, ~1B tokens
#   2. while it trains: zett, zett-server, zett-manifest built at nice 19 for the client checks
#   3. the new and the committed checkpoint side by side on identity (18 languages), own-language
#      UnigramLM, Mistral-7B, GPT-2; meanwhile scripts/gpu/check_clients.sh (issue 18: the Python
#      client's apply against `zett apply` and transformers)
# (Session 12 ran this plan and lost it: its second call found a fresh machine.) The checkpoint is
# copied to /tmp/s14/hypernet.tar as soon as it exists, so any later call can bring it back.
# Everything goes to /tmp/s14; /tmp/s14/done marks the end; /tmp/s14/hn/hypernet.tar is the
# bf16 checkpoint to commit.
#   usage: mkdir -p /tmp/s14 && setsid bash scripts/gpu/runs/2026-12-04-s14.sh > /tmp/s14/driver.log 2>&1 &
set -uo pipefail
cd "$(dirname "$0")/../../.."
out=/tmp/s14
steps=${STEPS:-30600}  # 30,600 x 128 x 256 = 1.003B positions
mkdir -p "$out"
stage() { echo "== $(date +%T) $*"; }

stage "train: H 384, $steps steps"
SERVER_CHECK=0 TRAIN_FLAGS="--hn_hidden_size=384 ${EXTRA_FLAGS:-}" \
  bash scripts/gpu/train_hypernet.sh "$out/hn" "$steps" "${TRAIN_LIMIT:-1250}" > "$out/train.log" 2>&1 &
trainer=$!
for _ in $(seq 1 120); do grep -q "^step" "$out/hn/train.rank0.log" 2>/dev/null && break; sleep 5; done
stage "build the client-check binaries at nice 19 while it trains"
(source scripts/gpu/host_env.sh && nice -n 19 cmake --build build/gpu -j8 \
  --target zett zett-server zett-manifest > "$out/client-build.log" 2>&1)
stage "client binaries built (rc $?); waiting for the trainer"
wait "$trainer"
cp "$out/hn/hypernet.tar" "$out/hypernet.tar" 2>/dev/null
grep -E "^train rc|^valid|bf16 parameters" "$out/train.log" "$out/hn/train.log" | tail -8
rm -f "$out"/hn/state.tar.part-*  # 8 returned files cannot hold it; the run finishes in one hold

stage "wait for data/tokenizers.tar.xz (a later call carries it: one call cannot carry all three)"
for _ in $(seq 1 240); do [ -f data/tokenizers.tar.xz ] && break; sleep 5; done
source scripts/gpu/host_env.sh || exit 1
new=/tmp/hn-new && rm -rf "$new" && mkdir -p "$new" && tar -C "$new" -xf "$out/hn/hypernet.tar"
bin=build/gpu/core/train/zett-train

timeout 300 bash scripts/gpu/check_clients.sh build/gpu data/tokenizers/gpt2/tokenizer.json \
  > "$out/check_clients.log" 2>&1 &
stage "evaluate: identity, own-language UnigramLM, Mistral-7B, GPT-2; new (with FVT) and committed"
bash scripts/gpu/score_checkpoints.sh "$bin" "$out" "$new" models/hypernet
wait
tail -30 "$out/check_clients.log"
stage "done"
touch "$out/done"
