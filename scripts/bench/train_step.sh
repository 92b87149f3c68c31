#!/usr/bin/env bash
# Training throughput, ours vs PyTorch (issue 5): the ZeTT training step of `zett-train train`
# (C++/LibTorch, real batches from data/corpus/train) and the same step in PyTorch eager
# (scripts/bench/train_step_torch.py, synthetic batches of the same shapes), one after the
# other on the same GPU; prints a table last. About 2-3 minutes on an H100.
#   usage: scripts/bench/train_step.sh BUILD_DIR [OUT_DIR]
#   env: OURS_STEPS (default 200), TORCH_STEPS (50), COMPILE=0 skips the torch.compile variant,
#   TORCH=0 both PyTorch runs;
#   HN_DTYPES ("float32 bfloat16"): the hypernet compute dtypes to run, each ours and PyTorch;
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

# Each hypernet compute dtype in HN_DTYPES (default "float32 bfloat16"; the masters and AdamW
# stay fp32 in both) runs ours and PyTorch with that precision.
hn_dtypes=${HN_DTYPES:-float32 bfloat16}
compile_flag=--compile
[ "${COMPILE:-1}" = 0 ] && compile_flag=
for dt in $hn_dtypes; do
  # --- ours: the real training loop, real batches (CPU prefetch workers), fresh run.
  echo "== ours ($dt hypernet): zett-train train, $ours_steps steps, B $B x T $T, k $K"
  run_dir="$out/ours-run-$dt"
  rm -rf "$run_dir"
  start=$SECONDS
  timeout 300 "$bin" train --base=models/base-lm --train_files='data/corpus/train/*.txt' \
    --output_dir="$run_dir" --resume=false --steps="$ours_steps" --batch_size=$B --seq_len=$T \
    --sample_vocab_size=$K --log_every=$log_every --eval_every=1000000 --save_every=1000000 \
    --device="$device" --hypernet_dtype="$dt" \
    ${TRACE:+--trace_steps=10 --trace_file="$out/trace-$dt-ours.json"} \
    ${OURS_FLAGS:-} > "$out/ours-$dt.log" 2>&1
  echo "ours rc=$? wall=$((SECONDS - start))s"
  grep -E "^hypernet|^step" "$out/ours-$dt.log" | tail -4

  # --- PyTorch: the same step, eager (+ torch.compile unless COMPILE=0; none with TORCH=0).
  if [ "${TORCH:-1}" != 0 ]; then
    echo "== PyTorch ($dt hypernet): scripts/bench/train_step_torch.py, $torch_steps timed steps"
    start=$SECONDS
    timeout 300 python3 scripts/bench/train_step_torch.py --device "$device" --batch-size $B \
      --seq-len $T --sample-vocab-size $K --steps "$torch_steps" --warmup "${TORCH_WARMUP:-10}" \
      --hypernet-dtype "$dt" $compile_flag ${TRACE:+--trace "$out/trace-$dt"} \
      > "$out/torch-$dt.log" 2>&1
    echo "torch rc=$? wall=$((SECONDS - start))s"
    grep -vE "^RESULT|^\|" "$out/torch-$dt.log" | tail -5
  fi

  if [ -n "${TRACE:-}" ]; then
    for impl in ours pytorch-eager pytorch-compile; do
      [ -f "$out/trace-$dt-$impl.json" ] &&
        python3 scripts/bench/kernel_summary.py "$out/trace-$dt-$impl.json" \
          --label "$impl, $dt hypernet, 10 steps" --top 12
    done
  fi
done

python3 - "$out" $B $T $hn_dtypes <<'PY'
import json, os, re, sys
out, B, T, dtypes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
tokens_per_step = B * T

def ours_row(dt):
    """Progress lines: "... | N tok/s | Y ms/step | cpu X ms/batch | wait Z ms/step | ...": the
    step is asynchronous (CUDA graphs, no host sync), so wall time per step is the device's step
    time. The first interval holds the warm-up (CUDA init, autotuning): left out when there are
    more."""
    rows = []
    for line in open(os.path.join(out, f"ours-{dt}.log"), errors="replace"):
        if not line.startswith("step "):
            continue
        num = lambda p: (float(m.group(1)) if (m := re.search(p, line)) else None)  # noqa: E731
        rows.append({"tok_s": num(r"([\d.]+) tok/s"), "cpu": num(r"cpu ([\d.]+) ms"),
                     "gpu": num(r"\| ([\d.]+) ms/step"), "wait": num(r"wait ([\d.]+) ms"),
                     "loss": num(r"loss ([\d.]+)")})
    timed = rows[1:] if len(rows) > 1 else rows
    mean = lambda k: (sum(r[k] for r in timed) / len(timed)  # noqa: E731
                      if timed and all(r[k] is not None for r in timed) else None)
    real = None
    try:
        state = json.load(open(os.path.join(out, f"ours-run-{dt}", "trainer_state.json")))
        real = state["tokens_seen"] / state["step"]
    except (OSError, ValueError, KeyError, ZeroDivisionError):
        pass
    return {"impl": "ours (zett-train, C++)", "dt": dt, "ms": mean("gpu"),
            "tok_s": mean("tok_s"), "cpu": mean("cpu"), "wait": mean("wait"), "real": real,
            "loss": rows[-1]["loss"] if rows else None, "intervals": len(rows)}

def torch_rows(dt):
    path = os.path.join(out, f"torch-{dt}.log")
    if not os.path.exists(path):
        return []
    return [{"impl": r["impl"], "dt": dt, "ms": r.get("ms_per_step"), "err": r.get("error"),
             "loss": r.get("loss_last")}
            for r in (json.loads(l[len("RESULT "):]) for l in open(path, errors="replace")
                      if l.startswith("RESULT "))]

fmt = lambda x, spec: "-" if x is None else format(x, spec)  # noqa: E731
rows = []
for dt in dtypes:
    o = ours_row(dt)
    rows.append(o)
    rows += torch_rows(dt)
    print("ours (%s hypernet): %d logged intervals; end to end %s non-pad tokens/s of wall time "
          "(CPU batch %s ms, prefetched; wait %s ms/step; %s non-pad tokens/step)"
          % (dt, o["intervals"], fmt(o["tok_s"], ".0f"), fmt(o["cpu"], ".0f"),
             fmt(o["wait"], ".1f"), fmt(o["real"], ".0f")))
ref = lambda impl, dt: next((r["ms"] for r in rows  # noqa: E731
                             if r["impl"] == impl and r["dt"] == dt and r.get("ms")), None)
print("\n## training step, ours vs PyTorch (same GPU, B %d x T %d)" % (B, T))
print("GPU step = hypernet fwd + backbone fwd + bwd + clip + AdamW; ratios against PyTorch with "
      "the same hypernet compute dtype")
print()
print("| implementation | hypernet dtype | ms/step | tokens/s (B x T / step) | vs eager | "
      "vs torch.compile | last loss |")
print("|---|---|---:|---:|---:|---:|---:|")
for r in rows:
    if r.get("err") or r["ms"] is None:
        print("| %s | %s | failed | - | - | - | - |" % (r["impl"], r["dt"]))
        continue
    eager, compiled = ref("pytorch-eager", r["dt"]), ref("pytorch-compile", r["dt"])
    print("| %s | %s | %.1f | %.0f | %s | %s | %s |"
          % (r["impl"], r["dt"], r["ms"], tokens_per_step / (r["ms"] / 1e3),
             fmt(eager and eager / r["ms"], ".2f"), fmt(compiled and compiled / r["ms"], ".2f"),
             fmt(r.get("loss"), ".3f")))
PY
