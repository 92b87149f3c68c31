#!/usr/bin/env bash
# Integration test: a real Prometheus (Debian's prometheus 2.42) scrapes a real zett-server and
# its HTTP API returns the server's request counter.
#
#   tests/deploy/prometheus_scrape_test.sh [ZETT_SERVER]
#
# Without an argument it serves what the image ships: scripts/deploy/build_release.sh builds
# build/cmake (CI's CMake build, same flags; $ZETT_CMAKE_BUILD overrides) into
# build/deploy/stage, whose libraries must all come from deploy/runtime-packages*.txt (the
# runtime stage's packages). The server runs on
# loopback ports with an empty model repository and the flag files of deploy/k8s (base and
# cpu-dev, so a flag the binary does not know fails here), gets gRPC calls from
# tests/deploy/grpc_calls.mjs, and Prometheus (own config, own TSDB dir, web on loopback, the
# alert rules of deploy/prometheus) scrapes its metrics port every second. The image's
# HEALTHCHECK script is run against it too. Every wait is bounded; everything started is
# stopped and the temp dir removed on every exit path.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ $# -ge 1 ]; then
  server_bin=$1
  healthcheck=deploy/healthcheck.sh
else
  bash scripts/deploy/build_release.sh "${ZETT_CMAKE_BUILD:-build/cmake}" build/deploy/stage \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo
  server_bin=build/deploy/stage/bin/zett-server
  healthcheck=build/deploy/stage/bin/zett-healthcheck
fi
[ -x "$server_bin" ] || { echo "prometheus_scrape_test: no executable $server_bin (build it first)" >&2; exit 1; }
for tool in prometheus promtool node python3; do
  command -v "$tool" > /dev/null || { echo "prometheus_scrape_test: $tool not found (scripts/install_deps.sh)" >&2; exit 1; }
done
[ -d .cache/npm/node_modules/@grpc/grpc-js ] || bash scripts/fetch_references.sh >&2

tmp=$(mktemp -d -t zett-prom-XXXXXX)
server_pid=""
prom_pid=""
fixture_pid=""
source scripts/lib/stop_pid.sh
cleanup() {
  local rc=$?
  stop_pid "$prom_pid"
  stop_pid "$server_pid"
  stop_pid "$fixture_pid"
  if [ "$rc" -ne 0 ]; then
    echo "--- zett-server log (tail)" >&2
    tail -n 20 "$tmp/server.log" >&2 2> /dev/null || true
    echo "--- prometheus log (tail)" >&2
    tail -n 20 "$tmp/prometheus.log" >&2 2> /dev/null || true
  fi
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
  echo "prometheus_scrape_test: FAIL: $*" >&2
  exit 1
}
passed=0
pass() {
  passed=$((passed + 1))
  echo "ok: $*"
}

# A free port below Linux's ephemeral range (32768+): a port the kernel hands out for bind(0)
# can be taken by any outgoing connection before the server binds it.
free_port() {
  python3 -c '
import random, socket
for _ in range(500):
    port = random.randint(20000, 32000)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
else:
    raise SystemExit("no free port in 20000-32000")'
}
# http_get URL → body on stdout; non-zero when the request fails (2 s timeout).
http_get() {
  python3 - "$1" << 'PY'
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
        sys.stdout.write(r.read().decode())
except Exception as e:
    sys.exit(f"{sys.argv[1]}: {e}")
PY
}
# wait_for SECONDS DESCRIPTION COMMAND...: retries COMMAND every 0.25 s until it succeeds.
wait_for() {
  local seconds=$1 what=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" > /dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || fail "timed out after ${seconds}s waiting for $what"
    sleep 0.25
  done
}

mkdir -p "$tmp/models"
grpc_port=$(free_port)
metrics_port=$(free_port)
web_port=$(free_port)

# start_server FLAGFILE: the deployment's flag file, then loopback overrides (later flags win).
start_server() {
  "$server_bin" --flagfile="$1" --model_repository="$tmp/models" \
    --listen="127.0.0.1:$grpc_port" --metrics_listen="127.0.0.1:$metrics_port" \
    > "$tmp/server.log" 2>&1 &
  server_pid=$!
  wait_for 30 "zett-server metrics on 127.0.0.1:$metrics_port" \
    bash -c "kill -0 $server_pid && python3 -c 'import urllib.request as u; u.urlopen(\"http://127.0.0.1:$metrics_port/metrics\", timeout=2)'"
}

# 0. The runtime image would have every library the binary needs.
bash scripts/install_deps.sh deploy/runtime-packages.txt > /dev/null ||
  fail "deploy/runtime-packages.txt names a package apt cannot install"
bash scripts/deploy/check_runtime_libs.sh deploy/runtime-packages.txt deploy/runtime-packages-cpu.txt \
  -- "$server_bin" || fail "$server_bin needs libraries the runtime image would not have"
printf 'libc6\n' > "$tmp/too-short.txt"
if bash scripts/deploy/check_runtime_libs.sh "$tmp/too-short.txt" -- "$server_bin" 2> "$tmp/short.err"; then
  fail "check_runtime_libs accepts a list with libc6 only"
fi
grep -q 'libgrpc++1.51 to one of' "$tmp/short.err" || fail "check_runtime_libs: $(head -n 3 "$tmp/short.err")"
pass "every shared library of $server_bin comes from deploy/runtime-packages*.txt (and libc6 alone is refused)"

# 1. The dev overlay's flags are accepted by the binary (it would exit on an unknown flag).
start_server deploy/k8s/overlays/cpu-dev/server.flags
stop_pid "$server_pid"
server_pid=""
pass "zett-server starts with deploy/k8s/overlays/cpu-dev/server.flags"

# 2. The production flags; this server is the one Prometheus scrapes.
start_server deploy/k8s/base/server.flags
pass "zett-server starts with deploy/k8s/base/server.flags (pid $server_pid)"

# The image's HEALTHCHECK: unhealthy while no model version is AVAILABLE, healthy once one is
# (shown on a fixture endpoint: this server has no model to load).
if out=$(ZETT_METRICS_PORT=$metrics_port "$healthcheck" 2>&1); then
  fail "HEALTHCHECK says healthy with no model loaded"
fi
[[ "$out" == *"no AVAILABLE model version"* ]] || fail "HEALTHCHECK failed for another reason: $out"
mkdir -p "$tmp/fixture"
printf '# TYPE zett_model_versions gauge\nzett_model_versions{state="FAILED"} 0\nzett_model_versions{state="AVAILABLE"} 1\n' \
  > "$tmp/fixture/metrics"
fixture_port=$(free_port)
python3 -m http.server --bind 127.0.0.1 --directory "$tmp/fixture" "$fixture_port" > /dev/null 2>&1 &
fixture_pid=$!
wait_for 20 "fixture HTTP server" http_get "http://127.0.0.1:$fixture_port/metrics"
ZETT_METRICS_PORT=$fixture_port "$healthcheck" || fail "HEALTHCHECK says unhealthy with a model AVAILABLE"
stop_pid "$fixture_pid"
fixture_pid=""
pass "HEALTHCHECK ($healthcheck): unhealthy on the live server without models, healthy with one AVAILABLE"

cat > "$tmp/prometheus.yml" << EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $PWD/deploy/prometheus/zett-alerts.yml
scrape_configs:
  - job_name: zett
    static_configs:
      - targets: ["127.0.0.1:$metrics_port"]
EOF
promtool check config "$tmp/prometheus.yml" > /dev/null || fail "promtool rejects the generated config"
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
  --web.listen-address="127.0.0.1:$web_port" --log.level=warn > "$tmp/prometheus.log" 2>&1 &
prom_pid=$!
api="http://127.0.0.1:$web_port"
wait_for 60 "Prometheus ready on 127.0.0.1:$web_port" http_get "$api/-/ready"
pass "Prometheus is ready (pid $prom_pid)"

calls=5
summary=$(node tests/deploy/grpc_calls.mjs --npm .cache/npm --target "127.0.0.1:$grpc_port" --calls "$calls") ||
  fail "gRPC calls failed: $summary"
echo "grpc_calls: $summary"
python3 - "$summary" "$calls" << 'PY' || fail "unexpected gRPC results: $summary"
import json, sys
s, calls = json.loads(sys.argv[1]), int(sys.argv[2])
# Empty repository: health stays NOT_SERVING, no models, an unknown model is NOT_FOUND.
assert s == {"health": "NOT_SERVING", "list_models_ok": calls, "get_model_code": "NOT_FOUND",
             "models": 0}, s
PY
pass "gRPC: health NOT_SERVING with no models, $calls ListModels OK, GetModel NOT_FOUND"

# query_value PROMQL MIN: succeeds when the instant query returns a sample >= MIN.
query_value() {
  local body
  body=$(http_get "$api/api/v1/query?query=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1")") || return 1
  python3 - "$body" "$2" << 'PY'
import json, sys
r = json.loads(sys.argv[1])
values = [float(x["value"][1]) for x in r["data"]["result"]] if r["status"] == "success" else []
sys.exit(0 if values and max(values) >= float(sys.argv[2]) else 1)
PY
}
wait_for 60 'up{job="zett"} == 1' query_value 'up{job="zett"}' 1
pass "Prometheus scrapes 127.0.0.1:$metrics_port (up == 1)"
wait_for 60 "zett_requests_total for ListModels/OK >= $calls" \
  query_value "zett_requests_total{job=\"zett\",method=\"ListModels\",code=\"OK\"}" "$calls"
wait_for 30 "zett_requests_total for GetModel/NOT_FOUND >= 1" \
  query_value "zett_requests_total{job=\"zett\",method=\"GetModel\",code=\"NOT_FOUND\"}" 1
pass "Prometheus API: zett_requests_total{method=\"ListModels\",code=\"OK\"} >= $calls and GetModel NOT_FOUND >= 1"
# The alerting rules run on the real series: with no model loaded, ZettNoModelAvailable must be
# pending (its `for:` is 15 min), and the latency histogram the p99 alert reads must exist.
wait_for 30 "ALERTS{alertname=ZettNoModelAvailable} pending" \
  query_value 'ALERTS{alertname="ZettNoModelAvailable",alertstate="pending",job="zett"}' 1
pass "deploy/prometheus/zett-alerts.yml loads; ZettNoModelAvailable is pending on the live server"
wait_for 30 "zett_request_duration_seconds_bucket{phase=total}" \
  query_value 'count(zett_request_duration_seconds_bucket{job="zett",method="ListModels",phase="total"})' 2
pass "zett_request_duration_seconds_bucket{phase=\"total\"} is scraped (ZettTransferLatencyP99High reads it)"

echo "prometheus_scrape_test: $passed passed, 0 failed"
