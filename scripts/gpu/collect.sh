#!/usr/bin/env bash
# Watches a detached GPU run (a driver started with setsid, scripts/gpu/runs/) from a device
# call: waits until FILE exists or WAIT_S seconds pass, prints the driver log's tail, and packs
# the run's small outputs (logs, JSON, Markdown, CSV; under 1 MB each) into $OUT/results.tar.gz,
# so every call brings back what exists so far even if the machine is later handed back.
#   usage: scripts/gpu/collect.sh RUN_DIR FILE WAIT_S
set -uo pipefail
run=${1:?usage: collect.sh RUN_DIR FILE WAIT_S}
file=${2:?usage: collect.sh RUN_DIR FILE WAIT_S}
wait_s=${3:?usage: collect.sh RUN_DIR FILE WAIT_S}
# A fresh machine (the one that ran the driver was released between calls) has no RUN_DIR:
# say so at once instead of waiting out the call.
[ -d "$run" ] || { echo "collect: no $run on this machine: the run is gone (a fresh machine)"; exit 3; }
start=$SECONDS
while [ ! -e "$file" ] && [ $((SECONDS - start)) -lt "$wait_s" ]; do sleep 5; done
echo "collect: waited $((SECONDS - start)) s; $file $([ -e "$file" ] && echo exists || echo 'not yet')"
tail -40 "$run/driver.log" 2>/dev/null
if [ -n "${OUT:-}" ]; then
  (cd "$run" && find . -type f \( -name '*.log' -o -name 'log' -o -name '*.json' -o -name '*.md' \
    -o -name '*.csv' -o -name '*.txt' \) -size -1000k -print0 | tar --null -czf "$OUT/results.tar.gz" -T -)
  ls -la "$OUT"
fi
