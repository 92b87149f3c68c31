#!/usr/bin/env bash
# Continued training on a fixed target (issue 14, the paper's n-shot mode) on a GPU host: for
# each language of LANGS, its own UnigramLM target (data/tokenizers/<lang>) starts from each
# init of INITS and is trained on that language's training text with the backbone frozen
# (`zett-train continue`); bits per byte on the language's test text against tokens seen. One
# process per (language, init), all at once (each is CPU-bound on its own tokenization).
#   usage: scripts/gpu/continue_curves.sh OUT_DIR STEPS [TIME_LIMIT_S]
#   env:   LANGS ("en ru de"), INITS ("hypernet fvt"), B (64 texts per step), EVAL_EVERY
#          (STEPS / 10), MAX_TEST_BYTES (40000), LR (1e-3), TAG (run-name suffix, ""),
#          TOKENIZERS (data/tokenizers), ENCODE_THREADS (2 per run), CURVES_BUILD=0 (built already)
# Writes OUT_DIR/<lang>-<init><TAG>/curve.json and log; prints one table of all curves last
# (scripts/eval/continue_table.py). Needs what scripts/gpu/host_env.sh unpacks.
set -uo pipefail
cd "$(dirname "$0")/../.."
source scripts/gpu/host_env.sh || exit 1
out=${1:?usage: continue_curves.sh OUT_DIR STEPS [TIME_LIMIT_S]}
steps=${2:?usage: continue_curves.sh OUT_DIR STEPS [TIME_LIMIT_S]}
limit=${3:-560}
read -ra langs <<<"${LANGS:-en ru de}"
read -ra inits <<<"${INITS:-hypernet fvt}"
mkdir -p "$out"
[ "${CURVES_BUILD:-1}" = 1 ] && { gpu_build build/gpu zett-train || exit 1; }
bin=build/gpu/core/train/zett-train

pids=()
for lang in "${langs[@]}"; do
  for init in "${inits[@]}"; do
    run="$out/$lang-$init${TAG:-}"
    mkdir -p "$run"
    timeout "$limit" "$bin" continue --base=models/base-lm --hypernet=models/hypernet \
      --target_tokenizer="${TOKENIZERS:-data/tokenizers}/$lang/tokenizer.json" --init="$init" \
      --train_files="data/corpus/train/$lang.txt" --test_text="data/corpus/test/$lang.txt" \
      --output_dir="$run" --steps="$steps" --batch_size="${B:-64}" --seq_len=256 \
      --lr="${LR:-1e-3}" --warmup_steps=$((steps / 50 + 1)) \
      --eval_every="${EVAL_EVERY:-$((steps / 10))}" --max_test_bytes="${MAX_TEST_BYTES:-40000}" \
      --encode_threads="${ENCODE_THREADS:-2}" --device=cuda > "$run/log" 2>&1 &
    pids+=($!)
  done
done
start=$SECONDS
rc=0
for pid in "${pids[@]}"; do wait "$pid" || rc=$?; done
echo "continue: ${#pids[@]} runs, last rc=$rc, wall=$((SECONDS - start)) s"
for log in "$out"/*/log; do echo "== $log"; tail -2 "$log"; done
python3 scripts/eval/continue_table.py "$out"
