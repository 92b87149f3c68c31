#!/usr/bin/env bash
# Issue 6's GPU benchmark at Mistral-7B shape (docs/benchmarks.md): random weights, d = H = 4096,
# I = 8192, 32 heads, 3 layers, L = 7, a 32,000-row [E_in | E_out] source table (Llama-2's
# tokenizer as the original), and in ONE run:
#   1. the card's bf16 matmul rate (torch.matmul 8192^3)             scripts/bench/torch_bench.py
#   2. the C++ hypernetwork forward, 32,768 full rows, bf16           core/hypernet/hypernet_forward
#   3. the same forward in PyTorch eager (scripts/parity/hypernet.py)  scripts/bench/torch_bench.py
#   4. zett-server + `zett transfer` (bf16) of a 32k (GPT-2 cut to 32,768) and a 128k (Llama-3)
#      target on loopback: server-side and end-to-end seconds
#   5. PredictTokens of 64 tokens, p50/p99 (`zett bench --rpc predict_tokens`)
# and prints a table last (scripts/bench/report.py).
#
#   usage: scripts/bench/mistral_shape.sh [BUILD_DIR [OUT_DIR]]     (default build/gpu, /tmp/zett-bench)
#   env:   BENCH_SHAPE=tiny     d = H = 64 on the CPU, for a dry run of the whole pipeline
#          ZETT_NPM=DIR         folder holding tokenizer-{llama2,gpt2,llama3}/models/tokenizer.json
#                               (default .cache/npm/node_modules/@lenml)
#          BENCH_PORT=27351     loopback port of the server
#          PYTHON=python3       the interpreter with torch (the other scripts need only the stdlib)
#          BENCH_TRACE=1        also record one C++ and one eager forward under the Kineto profiler
#                               and print both kernel summaries (scripts/bench/kernel_summary.py)
#          BENCH_REBUILD=1      rebuild the four binaries first when BUILD_DIR has a build.ninja;
#                               without one (a fresh host), .debs/sysroot.tar.xz is used to build them
#          SERVER_FLAGS="..."   extra zett-server flags (ablations: --attention=auto,
#                               --row_buckets_per_octave=0)
#          TRANSFERS_ONLY=1     only the transfers (step 4), reusing OUT_DIR's targets and model
#                               repository when a previous run left them
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
build=$(realpath -m "${1:-build/gpu}")
out=$(realpath -m "${2:-/tmp/zett-bench}")
shape=${BENCH_SHAPE:-mistral}
npm=$(realpath -m "${ZETT_NPM:-.cache/npm/node_modules/@lenml}")
port=${BENCH_PORT:-27351}
model=mistral-shape
mkdir -p "$out"
log() { echo "mistral_shape: $*" >&2; }

# Runtime libraries as scripts/gpu/build_and_test.sh sets them (sysroot + the wheel's LibTorch).
# (The sysroot's folder is added even before a fresh host's build unpacks it.)
sysroot=${ZETT_SYSROOT:-/tmp/zett-sysroot}
export LD_LIBRARY_PATH="$sysroot/usr/lib/x86_64-linux-gnu:${LD_LIBRARY_PATH:-}"
py=${PYTHON:-python3}
have_torch=0
if torch_dir=$("$py" -c 'import torch, os; print(os.path.dirname(torch.__file__))' 2>/dev/null); then
  have_torch=1
  export LD_LIBRARY_PATH="$torch_dir/lib:${LD_LIBRARY_PATH:-}"
fi

case "$shape" in
  mistral) d=4096 heads=32 rows=32768 reps=5 matmul_n=8192 ;;
  tiny) d=64 heads=2 rows=512 reps=2 matmul_n=512 ;;
  *) log "BENCH_SHAPE must be mistral or tiny"; exit 2 ;;
esac
hidden=$d intermediate=$((2 * d)) layers=3 maxlen=7
device=cpu
if [ "$have_torch" = 1 ] && "$py" -c 'import torch,sys; sys.exit(0 if torch.cuda.is_available() else 1)'; then
  device=cuda
fi
[ "$shape" = tiny ] && device=cpu

bins=(server/zett-server server/zett-manifest client/zett core/hypernet/hypernet_forward)
if [ ! -f "$build/build.ninja" ] && [ -f .debs/sysroot.tar.xz ]; then
  # A fresh GPU host: configure and build just these four (scripts/gpu/build_and_test.sh).
  log "no $build: building the four binaries with scripts/gpu/build_and_test.sh"
  ZETT_TARGETS="zett-server zett-manifest zett hypernet_forward" \
    bash scripts/gpu/build_and_test.sh "$build" > "$out/build.log" 2>&1 || true
elif [ "${BENCH_REBUILD:-1}" = 1 ] && [ -f "$build/build.ninja" ]; then
  log "rebuilding ${bins[*]##*/} in $build"
  PATH="/usr/local/cuda/bin:$sysroot/usr/bin:$PATH" \
    cmake --build "$build" --target zett-server zett-manifest zett hypernet_forward \
    > "$out/build.log" 2>&1 || { tail -30 "$out/build.log" >&2; log "rebuild failed; using what is there"; }
fi
for b in "${bins[@]}"; do
  [ -x "$build/$b" ] || { log "missing $build/$b (build with scripts/gpu/build_and_test.sh)"; exit 1; }
done
zett=$build/client/zett

llama2=$npm/tokenizer-llama2/models/tokenizer.json
gpt2=$npm/tokenizer-gpt2/models/tokenizer.json
llama3=$npm/tokenizer-llama3/models/tokenizer.json
for f in "$llama2" "$gpt2" "$llama3"; do
  [ -f "$f" ] || { log "missing $f (scripts/fetch_references.sh, or carry it; ZETT_NPM=DIR)"; exit 1; }
done

start=$SECONDS
only_transfers=${TRANSFERS_ONLY:-0}
if [ "$only_transfers" = 1 ] && [ -f "$out/shape.json" ] && [ -d "$out/repo/$model/1" ]; then
  log "TRANSFERS_ONLY: reusing $out/targets and $out/repo"
  repo=$out/repo
else
  only_transfers=0
log "targets"
mkdir -p "$out/targets"
python3 scripts/bench/make_targets.py --gpt2 "$gpt2" --out32k "$out/targets/gpt2-32k.json" \
  --tokens-from "$llama3" --tokens-out "$out/targets/tokens64.txt"
cp "$llama3" "$out/targets/llama3-128k.json"

log "model repository ($shape shape, random bf16 weights)"
repo=$out/repo
rm -rf "$repo"
python3 scripts/bench/make_model_repo.py --repo "$repo" --model "$model" \
  --original-tokenizer "$llama2" --d "$d" --hidden "$hidden" --intermediate "$intermediate" \
  --heads "$heads" --layers "$layers" --maxlen "$maxlen" --extra-tokens "${EXTRA_TOKENS:-522}" \
  --forward-inputs "$out/forward_inputs.safetensors" --forward-rows "$rows"
version_dir=$repo/$model/1
"$build/server/zett-manifest" "$version_dir"
v_orig=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['original_vocab_size'])" \
  "$version_dir/hypernet/config.json")
cat > "$out/shape.json" <<EOF
{"d": $d, "H": $hidden, "I": $intermediate, "heads": $heads, "layers": $layers, "L": $maxlen,
 "rows": $rows, "v_orig": $v_orig, "device": "$device"}
EOF
log "generated in $((SECONDS - start)) s"
fi

if [ "$only_transfers" != 1 ]; then

log "C++ forward: $rows rows x $maxlen, bf16, $device"
"$build/core/hypernet/hypernet_forward" --hypernet="$version_dir/hypernet" \
  --inputs="$out/forward_inputs.safetensors" --output="$out/cxx_forward.safetensors" \
  --device="$device" --dtype=bfloat16 --projected=true --repeat="$reps" \
  ${BENCH_TRACE:+--trace="$out/cxx_trace.json"} | tee "$out/cxx_forward.log" ||
  log "hypernet_forward failed (the table shows - for its row)"

if [ "$have_torch" = 1 ]; then
  log "PyTorch: matmul rate and eager forward"
  "$py" scripts/bench/torch_bench.py --hypernet "$version_dir/hypernet" \
    --inputs "$out/forward_inputs.safetensors" --cxx-output "$out/cxx_forward.safetensors" \
    --out "$out/torch.json" --device "$device" --matmul-n "$matmul_n" --reps "$reps" \
    ${BENCH_TRACE:+--trace "$out/eager_trace.json"} ||
    log "torch_bench failed (the table shows - for its rows)"
else
  log "no torch in python3: matmul rate and eager forward skipped"
fi
rm -f "$out/cxx_forward.safetensors"

log "decomposition on one CPU thread (the server's prepare phase)"
for t in 32k:gpt2-32k 128k:llama3-128k; do
  "$zett" decompose --original "$llama2" --target "$out/targets/${t#*:}.json" --max-len "$maxlen" \
    --pad-id 2 > /dev/null 2> "$out/decompose_${t%%:*}.log" || log "decompose ${t%%:*} failed"
  cat "$out/decompose_${t%%:*}.log" >&2
done
fi

# The server is started afresh before each target's series, so run 0 of a series is the first
# request after load (warm-up at load included; issue 13's first-request vs warm check).
addr=127.0.0.1:$port
server_pid=
stop_server() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  server_pid=
  return 0
}
trap stop_server EXIT
start_server() {  # name: log file suffix
  local name=$1 loaded_at
  log "zett-server on $addr (for $name)"
  local t0=$SECONDS
  # shellcheck disable=SC2086  # SERVER_FLAGS is a list of flags
  "$build/server/zett-server" --model-repository "$repo" --listen "$addr" \
    --cache_bytes=0 ${SERVER_FLAGS:-} > "$out/server_$name.log" 2>&1 &
  server_pid=$!
  local state=
  for _ in $(seq 1 600); do
    state=$("$zett" models --server "$addr" --model "$model" 2>/dev/null || true)
    case "$state" in
      *AVAILABLE*) break ;;
      *FAILED*) log "the model FAILED to load:"; echo "$state" >&2; tail -20 "$out/server_$name.log" >&2; exit 1 ;;
    esac
    kill -0 "$server_pid" 2>/dev/null || { log "zett-server exited:"; tail -20 "$out/server_$name.log" >&2; exit 1; }
    sleep 0.5
  done
  case "$state" in *AVAILABLE*) ;; *) log "model not AVAILABLE after 300 s"; exit 1 ;; esac
  loaded_at=$((SECONDS - t0))
  echo "available_after_seconds=$loaded_at" > "$out/load_$name.txt"
  grep -o 'load_seconds=[^ ]*\|warmup_seconds=[^ ]*' "$out/server_$name.log" \
    >> "$out/load_$name.txt" || true
  log "model AVAILABLE after $loaded_at s: $(tr '\n' ' ' < "$out/load_$name.txt")"
}

# Run 0 is the first request after load; the report takes the median of the others as warm.
transfer() {  # name tokenizer runs
  local name=$1 tokenizer=$2 runs=$3
  for k in $(seq 0 $((runs - 1))); do
    local t0 t1
    t0=$(date +%s.%N)
    "$zett" transfer --server "$addr" --model "$model" --tokenizer "$tokenizer" \
      --out "$out/transfer_out_$name" --dtype bf16 > "$out/transfer_${name}_$k.log" 2> "$out/transfer_${name}_$k.err" ||
      { log "transfer $name failed:"; tail -5 "$out/transfer_${name}_$k.err" >&2; return 0; }
    t1=$(date +%s.%N)
    python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$t0" "$t1" \
      > "$out/transfer_${name}_$k.wall"
    echo "  $name run $k: $(cat "$out/transfer_${name}_$k.log") wall=$(cat "$out/transfer_${name}_$k.wall")" >&2
  done
  rm -rf "$out/transfer_out_$name"
}
log "transfers"
start_server 32k
transfer 32k "$out/targets/gpt2-32k.json" 4
stop_server
start_server 128k
transfer 128k "$out/targets/llama3-128k.json" 3

if [ "$only_transfers" != 1 ]; then
  log "PredictTokens, 64 tokens, 1 stream, 10 s"
  "$zett" bench --server "$addr" --model "$model" --tokenizer "$out/targets/tokens64.txt" \
    --rpc predict_tokens --tokens 64 --streams 1 --seconds 10 --dtype bf16 \
    | tee "$out/predict_tokens.log" || log "PredictTokens bench failed"
fi

stop_server
trap - EXIT
log "done in $((SECONDS - start)) s; files in $out"
if [ -n "${BENCH_TRACE:-}" ]; then
  for t in cxx eager; do
    [ -f "$out/${t}_trace.json" ] && python3 scripts/bench/kernel_summary.py "$out/${t}_trace.json" \
      --label "$t forward" --top 12
  done
fi
python3 scripts/bench/report.py "$out"
