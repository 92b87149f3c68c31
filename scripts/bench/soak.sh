#!/usr/bin/env bash
# Soak benchmark of zett-server (issue 17): the real server on the bundled model, STREAMS
# concurrent Transfer streams for SOAK_SECONDS over loopback in WINDOW-second windows (errors, p50,
# p99 per window), the server's RSS sampled every INTERVAL s; then CANCELS calls cut by their
# client (deadline) and by a killed client, then IDLE seconds idle. Prints a table last; exits 1
# on any error in the soak windows or a server that died.
#   usage: scripts/bench/soak.sh BUILD_DIR [OUT_DIR]
#   env: STREAMS (64), SOAK_SECONDS (300), WINDOW (60), INTERVAL (5), CANCELS (100), IDLE (30),
#        TOKENIZER (data/tokenizers/en/tokenizer.json), DEVICE (cpu), DTYPE (bf16)
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:?usage: soak.sh BUILD_DIR [OUT_DIR]}
out=${2:-$(mktemp -d /tmp/zett-soak.XXXXXX)}
mkdir -p "$out"
streams=${STREAMS:-64} seconds=${SOAK_SECONDS:-300} window=${WINDOW:-60}
interval=${INTERVAL:-5} cancels=${CANCELS:-100} idle=${IDLE:-30}
tokenizer=${TOKENIZER:-data/tokenizers/en/tokenizer.json}
server_bin="$build/server/zett-server" zett="$build/client/zett"
for f in "$server_bin" "$zett" "$tokenizer"; do
  [ -e "$f" ] || { echo "soak: missing $f" >&2; exit 1; }
done
port=$((20000 + RANDOM % 20000))
addr=127.0.0.1:$port

"$server_bin" --model bundled=models/base-lm,models/hypernet --listen "$addr" \
  --device="${DEVICE:-cpu}" --cache_bytes=0 --max_concurrent_requests=$((streams + 8)) \
  > "$out/server.log" 2>&1 &
server_pid=$!
trap 'kill $server_pid $sampler_pid 2>/dev/null; wait $server_pid 2>/dev/null' EXIT
for _ in $(seq 600); do
  "$zett" health --server "$addr" > /dev/null 2>&1 && break
  kill -0 $server_pid 2>/dev/null || { echo "soak: server died" >&2; tail "$out/server.log"; exit 1; }
  sleep 0.5
done
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' /proc/$server_pid/status 2>/dev/null; }
start=$SECONDS
echo "t_s,rss_mb" > "$out/rss.csv"
(while kill -0 $server_pid 2>/dev/null; do
   echo "$((SECONDS - start)),$(rss_mb)" >> "$out/rss.csv"; sleep "$interval"; done) &
sampler_pid=$!
rss_ready=$(rss_mb)

# The soak: one `zett bench` per window, so latency and errors are seen over time.
: > "$out/windows.txt"
failed=0
for ((w = 0; w * window < seconds; w++)); do
  line=$("$zett" bench --server "$addr" --model bundled --tokenizer "$tokenizer" \
    --streams "$streams" --seconds "$window" --dtype "${DTYPE:-bf16}") || failed=1
  echo "window=$w rss_mb=$(rss_mb) $line" | tee -a "$out/windows.txt"
done
rss_soak=$(rss_mb)

# Interrupted calls: half cut by a client deadline, half by a killed client process.
for ((i = 0; i < cancels; i++)); do
  if ((i % 2 == 0)); then
    "$zett" transfer --server "$addr" --model bundled --tokenizer "$tokenizer" \
      --out "$out/cancelled" --timeout 0.2 > /dev/null 2>&1
  else
    (timeout -s KILL 0.3 "$zett" transfer --server "$addr" --model bundled \
      --tokenizer "$tokenizer" --out "$out/cancelled" > /dev/null 2>&1) 2> /dev/null
  fi
done
sleep 2
rss_cancels=$(rss_mb)
sleep "$idle"
rss_idle=$(rss_mb)
alive=yes
"$zett" transfer --server "$addr" --model bundled --tokenizer "$tokenizer" --out "$out/after" \
  > "$out/after.log" 2>&1 || alive=no
kill -0 $server_pid 2>/dev/null || alive=no

echo
echo "## soak: $streams streams x ${seconds} s, $(basename "$tokenizer") ($(nproc) cores, ${DEVICE:-cpu})"
echo
echo "| window | calls | errors | p50 ms | p99 ms | server RSS MB |"
echo "|---|---:|---:|---:|---:|---:|"
sed -E 's/^window=([0-9]+) rss_mb=([0-9]+) .*calls=([0-9]+) errors=([0-9]+).*p50_ms=([0-9.]+) p99_ms=([0-9.]+).*/| \1 | \3 | \4 | \5 | \6 | \2 |/' \
  "$out/windows.txt"
echo
echo "| RSS MB: ready | after soak | after $cancels interrupted calls | after ${idle} s idle | serving after |"
echo "|---:|---:|---:|---:|---|"
echo "| $rss_ready | $rss_soak | $rss_cancels | $rss_idle | $alive |"
[ $failed = 0 ] && [ $alive = yes ]
