# Sourced by the GPU training scripts (train_dp.sh, train_hypernet.sh).
# launch_ranks N LOG_PREFIX COMMAND...: starts N copies of COMMAND, one per rank, with torchrun's
# variables (WORLD_SIZE, RANK, LOCAL_RANK, MASTER_ADDR, MASTER_PORT on a random loopback port),
# rank r writing LOG_PREFIX.rank<r>.log; waits for all and returns the last non-zero exit status.
launch_ranks() {
  local n=$1 prefix=$2 port=$(( 29500 + RANDOM % 2000 )) pids=() rc=0 rank pid
  shift 2
  for rank in $(seq 0 $((n - 1))); do
    WORLD_SIZE=$n RANK=$rank LOCAL_RANK=$rank MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
      "$@" > "$prefix.rank$rank.log" 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || rc=$?; done
  return "$rc"
}
