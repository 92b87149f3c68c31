#!/usr/bin/env bash
# Training throughput, ours vs PyTorch (issue 5): the ZeTT training step of `zett-train train`
# (C++/LibTorch, real batches from data/corpus/train) and the same step in PyTorch eager
# (scripts/bench/train_step_torch.py, synthetic batches of the same shapes), one after the
# other on the same GPU; prints a table last. About 2-3 minutes on an H100.
#   usage: scripts/bench/train_step.sh BUILD_DIR [OUT_DIR]
#   env: OURS_STEPS (default 200), TORCH_STEPS (50), COMPILE=0 skips the torch.compile variant;
#   TRACE=1 records 10 steps of each implementation with the Kineto profiler and prints the
#   kernel summaries (scripts/bench/kernel_summary.py) before the table;
#   for a CPU smoke test of the script itself: DEVICE=cpu B=4 T=32 K=600 LOG_EVERY=2
#   TORCH_WARMUP=1 TORCH_STEPS=2 OURS_STEPS=6 COMPILE=0.
# Needs on the GPU host what scripts/gpu/host_env.sh unpacks (.debs/sysroot.tar.xz,
# data/bundle.tar.xz), torch + transformers in python3. OURS_FLAGS: extra zett-train flags.
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:?usage: train_step.sh BUILD_DIR [OUT_DIR]}
out=${2:-$(mktemp -d /tmp/zett-train-step.XXXXXX)}
mkdir -p "$out"
ours_steps=${OURS_STEPS:-200}
torch_steps=${TORCH_STEPS:-50}
log_every=${LOG_EVERY:-20}
device=${DEVICE:-cuda}
B=${B:-32} T=${T:-256} K=${K:-8192}

source scripts/gpu/host_env.sh || exit 1
gpu_build "$build" zett-train
bin="$build/core/train/zett-train"
[ -x "$bin" ] || { echo "no $bin: run scripts/gpu/build_and_test.sh $build first" >&2; exit 1; }

# --- ours: the real training loop, real batches (CPU prefetch thread), fresh run.
echo "== ours: zett-train train, $ours_steps steps, B $B x T $T, k $K"
run_dir="$out/ours-run"
rm -rf "$run_dir"
start=$SECONDS
timeout 300 "$bin" train --base=models/base-lm --train_files='data/corpus/train/*.txt' \
  --output_dir="$run_dir" --resume=false --steps="$ours_steps" --batch_size=$B --seq_len=$T \
  --sample_vocab_size=$K --log_every=$log_every --eval_every=1000000 --save_every=1000000 \
  --device="$device" ${TRACE:+--trace_steps=10 --trace_file="$out/trace-ours.json"} \
  ${OURS_FLAGS:-} > "$out/ours.log" 2>&1
echo "ours rc=$? wall=$((SECONDS - start))s"
grep -E "^hypernet|^step" "$out/ours.log" | tail -4

# --- PyTorch: the same step, eager (+ torch.compile unless COMPILE=0).
echo "== PyTorch: scripts/bench/train_step_torch.py, $torch_steps timed steps"
compile_flag=--compile
[ "${COMPILE:-1}" = 0 ] && compile_flag=
start=$SECONDS
timeout 240 python3 scripts/bench/train_step_torch.py --device "$device" --batch-size $B \
  --seq-len $T --sample-vocab-size $K --steps "$torch_steps" --warmup "${TORCH_WARMUP:-10}" $compile_flag \
  ${TRACE:+--trace "$out/trace"} \
  > "$out/torch.log" 2>&1
echo "torch rc=$? wall=$((SECONDS - start))s"
grep -vE "^RESULT|^\|" "$out/torch.log" | tail -5

if [ -n "${TRACE:-}" ]; then
  for impl in ours pytorch-eager pytorch-compile; do
    [ -f "$out/trace-$impl.json" ] &&
      python3 scripts/bench/kernel_summary.py "$out/trace-$impl.json" --label "$impl, 10 steps" --top 12
  done
fi

python3 - "$out/ours.log" "$run_dir/trainer_state.json" "$out/torch.log" $B $T <<'PY'
import json, re, sys
ours_log, state_path, torch_log, B, T = sys.argv[1:4] + [int(a) for a in sys.argv[4:6]]
tokens_per_step = B * T

# Progress lines: "... | N tok/s | Y ms/step | cpu X ms/batch | wait Z ms/step | ...": the step
# is asynchronous (CUDA graphs, no host sync), so wall time per step is the device's step time.
# The first interval holds the warm-up (CUDA init, autotuning): left out when there are more.
rows = []
for line in open(ours_log, errors="replace"):
    if not line.startswith("step "):
        continue
    num = lambda pattern: (float(m.group(1)) if (m := re.search(pattern, line)) else None)  # noqa: E731
    rows.append({"tok_s": num(r"([\d.]+) tok/s"), "cpu": num(r"cpu ([\d.]+) ms"),
                 "gpu": num(r"\| ([\d.]+) ms/step"), "wait": num(r"wait ([\d.]+) ms")})
timed = rows[1:] if len(rows) > 1 else rows
mean = lambda key: (sum(r[key] for r in timed) / len(timed)  # noqa: E731
                    if timed and all(r[key] is not None for r in timed) else None)
ours = {"impl": "ours (zett-train, C++)", "ms": mean("gpu")}
real_tokens = None
try:
    state = json.load(open(state_path))
    real_tokens = state["tokens_seen"] / state["step"]
except (OSError, ValueError, KeyError, ZeroDivisionError):
    pass

results = [json.loads(l[len("RESULT "):]) for l in open(torch_log, errors="replace")
           if l.startswith("RESULT ")]
torch_rows = [{"impl": r["impl"], "ms": r.get("ms_per_step"), "err": r.get("error")}
              for r in results]
eager = next((r["ms"] for r in torch_rows if r["impl"] == "pytorch-eager" and r["ms"]), None)

def fmt(x, spec):
    return "-" if x is None else format(x, spec)

print("\n## training step, ours vs PyTorch (same GPU, B %d x T %d)" % (B, T))
print("ours: %d logged intervals, first left out as warm-up; GPU step = hypernet fwd + backbone"
      " fwd + bwd + clip + AdamW + loss.item()" % len(rows))
if mean("tok_s") is not None:
    print("ours end to end: %.0f non-pad tokens/s of wall time (CPU batch %s ms, prefetched; "
          "wait %s ms/step; %s non-pad tokens/step)"
          % (mean("tok_s"), fmt(mean("cpu"), ".0f"), fmt(mean("wait"), ".0f"),
             fmt(real_tokens, ".0f")))
print()
print("| implementation | ms/step (GPU step) | tokens/s (B x T / step) | speed vs PyTorch eager |")
print("|---|---|---|---|")
for r in [ours] + torch_rows:
    if r.get("err") or r["ms"] is None:
        print("| %s | failed | - | - |" % r["impl"])
        continue
    ratio = eager / r["ms"] if eager else None
    print("| %s | %.1f | %.0f | %s |" % (r["impl"], r["ms"], tokens_per_step / (r["ms"] / 1e3),
                                        fmt(ratio, ".2f") + ("x" if ratio else "")))
PY
