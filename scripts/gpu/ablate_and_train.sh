#!/usr/bin/env bash
# Chooses the recipe and starts the long run in one device call: short ablations side by side
# (train_ablations.sh, which names its choice by a rule fixed in advance), then
# train_hypernet.sh with the chosen run's flags, detached (setsid) so that later calls of the
# same hold watch it (MAIN_OUT.log) and collect MAIN_OUT/hypernet.tar.
#   usage: scripts/gpu/ablate_and_train.sh ABL_DIR ABL_STEPS MAIN_OUT MAIN_STEPS MAIN_LIMIT_S \
#            NAME='FLAGS' [NAME='FLAGS' ...]
set -uo pipefail
cd "$(dirname "$0")/../.."
abl=${1:?usage: ablate_and_train.sh ABL_DIR ABL_STEPS MAIN_OUT MAIN_STEPS MAIN_LIMIT_S NAME=FLAGS...}
abl_steps=${2:?abl steps}
main_out=${3:?main out}
main_steps=${4:?main steps}
main_limit=${5:?main limit}
shift 5
bash scripts/gpu/train_ablations.sh "$abl" "$abl_steps" "$@"
[ -f "$abl/choice" ] || { echo "ablate_and_train: no choice (no run finished); nothing started"; exit 1; }
flags=$(sed -n 2p "$abl/choice")
echo "starting the main run: $main_steps steps, flags '$flags', limit ${main_limit}s -> $main_out"
mkdir -p "$main_out"
SERVER_CHECK=0 RECIPE="$flags" setsid bash scripts/gpu/train_hypernet.sh "$main_out" \
  "$main_steps" "$main_limit" > "$main_out.log" 2>&1 < /dev/null &
sleep 20
tail -3 "$main_out.log"; grep -E "^step" "$main_out/train.rank0.log" 2>/dev/null | tail -2
