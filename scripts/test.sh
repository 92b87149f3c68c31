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

# Build caches outside the checkout: a fresh clone on the same machine reuses what an earlier
# run compiled (keys are independent of the clone's path).
CACHE_ROOT=${ZETT_CACHE_DIR:-$HOME/.cache/zett}
export CCACHE_DIR="$CACHE_ROOT/ccache" CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
export CCACHE_MAXSIZE=5G

bazel_tests() {
  local log=build/bazel_test.log
  mkdir -p build
  set +e
  bazel test --disk_cache="$CACHE_ROOT/bazel-disk" //... 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  set -e
  BAZEL_SUMMARY=$(grep -E '^Executed [0-9]+ out of' "$log" | tail -n 1 || true)
  return "$rc"
}

cmake_build() {
  cmake -S . -B build/cmake -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
  cmake --build build/cmake -j"$(nproc)"
}

cmake_tests() {
  set +e
  (cd build/cmake && ctest --output-on-failure -j"$(nproc)") 2>&1 | tee build/ctest.log
  local rc=${PIPESTATUS[0]}
  set -e
  return "$rc"
}

# "N passed, M failed" over both runners' test targets (Bazel test targets + CTest tests).
summary_line() {
  local bazel_total bazel_passed ctest_total ctest_failed
  bazel_total=$(sed -n 's/^Executed [0-9]* out of \([0-9]*\) tests\?:.*/\1/p' build/bazel_test.log | tail -n 1)
  bazel_passed=$(grep -c ' PASSED in ' build/bazel_test.log || true)  # "(cached) PASSED in" too
  ctest_total=$(sed -n 's/.*tests failed out of \([0-9]*\).*/\1/p' build/ctest.log | tail -n 1)
  ctest_failed=$(sed -n 's/.*, \([0-9]*\) tests failed out of.*/\1/p' build/ctest.log | tail -n 1)
  local passed=$((bazel_passed + ${ctest_total:-0} - ${ctest_failed:-0}))
  local failed=$((${bazel_total:-0} - bazel_passed + ${ctest_failed:-0}))
  echo "ci: ${passed} passed, ${failed} failed"
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
summary_line
