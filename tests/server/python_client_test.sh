#!/usr/bin/env bash
# The Python grpcio client (python_client.py) fetches and verifies a Transfer stream from a
# zett-server (test double engine): the second-language client of issue 6. Skips (exit 0 with a
# note) where python3-grpcio is not installed.
set -euo pipefail
root="${TEST_SRCDIR:+$TEST_SRCDIR/zett}"
root="${root:-${ZETT_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}}"
server_bin="${1:-$root/tests/server/test_zett_server}"
if ! /usr/bin/python3 -c "import grpc, google.protobuf" 2>/dev/null; then
  echo "SKIP: /usr/bin/python3 lacks grpc/protobuf (apt-get install python3-grpcio python3-protobuf)"
  exit 0
fi
work="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
"$server_bin" --write_test_repository "$work/repo" --listen 127.0.0.1:0 >"$work/port" 2>"$work/log" &
pid=$!
for _ in $(seq 100); do grep -q '^port=' "$work/port" && break; sleep 0.1; done
port="$(sed -n 's/^port=//p' "$work/port")"
[ -n "$port" ] || { cat "$work/log"; echo "server did not start"; exit 1; }
for dtype in fp32 bf16; do
  summary="$(/usr/bin/python3 "$root/tests/server/python_client.py" --proto-root "$root/proto" \
    --server "127.0.0.1:$port" --model demo --tokens 'Ġhello,Ġworld,!,<s>' --dtype "$dtype")"
  echo "$summary"
  /usr/bin/python3 - "$summary" <<'PY'
import json, sys
s = json.loads(sys.argv[1])
assert s["vocab_size"] == 4, s
assert set(s["matrices"]) == {"MATRIX_INPUT_EMBEDDINGS", "MATRIX_OUTPUT_EMBEDDINGS", "MATRIX_OUTPUT_BIAS"}, s
assert s["matrices"]["MATRIX_INPUT_EMBEDDINGS"]["cols"] == 8, s
PY
done
echo "python_client_test: PASS"
