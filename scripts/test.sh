#!/usr/bin/env bash
# The test command (README, .ci/run): installs what is missing, builds and tests with Bazel
# and with CMake, runs the bounded fuzzers, and prints the time of each stage.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -a STAGES=()
stage() {
  local name="$1"
  shift
  echo "=== ${name}"
  local start=$SECONDS
  "$@"
  STAGES+=("$(printf '%-28s %5ds' "$name" $((SECONDS - start)))")
}

bazel_tests() {
  local log=build/bazel_test.log
  mkdir -p build
  set +e
  bazel test //... 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  set -e
  BAZEL_SUMMARY=$(grep -E '^Executed [0-9]+ out of' "$log" | tail -n 1 || true)
  return "$rc"
}

cmake_build() {
  cmake -S . -B build/cmake -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
  cmake --build build/cmake -j"$(nproc)"
}

cmake_tests() {
  (cd build/cmake && ctest --output-on-failure -j"$(nproc)")
}

stage "install dependencies" bash scripts/install_deps.sh
stage "fetch reference packages" bash scripts/fetch_references.sh
stage "check BUILD/CMake sync" bash scripts/check_build_sync.sh
stage "validate manifests" bash scripts/deploy/validate_manifests.sh
stage "bazel test //..." bazel_tests
stage "cmake build" cmake_build
stage "prometheus scrape test" bash tests/deploy/prometheus_scrape_test.sh
stage "tokenizer conformance" bash scripts/conformance/run.sh
stage "ctest" cmake_tests
[ -x scripts/fuzz.sh ] && stage "fuzz (bounded)" bash scripts/fuzz.sh

echo
echo "=== stage times"
printf '%s\n' "${STAGES[@]}"
echo "bazel: ${BAZEL_SUMMARY:-no summary}"
echo "total ${SECONDS}s"
