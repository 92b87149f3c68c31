# Sourced by scripts and tests that start background processes (bash).
# stop_pid PID [SECONDS]: SIGTERM, then SIGKILL if it still runs after SECONDS (default 10);
# reaps it. A PID that is empty or already gone is fine.
stop_pid() {
  local pid=$1 seconds=${2:-10}
  [ -n "$pid" ] && kill -0 "$pid" 2> /dev/null || return 0
  kill -TERM "$pid" 2> /dev/null || true
  for _ in $(seq $((seconds * 10))); do
    kill -0 "$pid" 2> /dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2> /dev/null || true
  wait "$pid" 2> /dev/null || true
}
