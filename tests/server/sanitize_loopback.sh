#!/usr/bin/env bash
# The server's loopback tests (a real zett-server in process: transfers, errors, cancellation,
# shutdown, the real engine on the bundled models) built with AddressSanitizer and
# LeakSanitizer, run on the CPU. Fails on any ASan report or leak, with no suppressions (none
# was needed: LibTorch's, gRPC's and protobuf's globals are still reachable at exit).
#   usage: tests/server/sanitize_loopback.sh BUILD_DIR [EXTRA_CMAKE_ARGS...]
# On a GPU host: source scripts/gpu/host_env.sh first and pass -DZETT_SYSROOT=… -DZETT_TORCH_DIR=….
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:?usage: sanitize_loopback.sh BUILD_DIR [EXTRA_CMAKE_ARGS...]}
shift
tests=(transfer_test errors_test operations_test hypernet_model_test predict_queue_test)
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DZETT_SANITIZE=address \
    -DZETT_REQUIRE_NPM=OFF "$@" > "$build.configure.log" 2>&1 ||
    { tail -20 "$build.configure.log"; exit 1; }
fi
cmake --build "$build" -j"$(nproc)" --target "${tests[@]}" > "$build.build.log" 2>&1 ||
  { grep -E "error|FAILED" "$build.build.log" | head -20; exit 1; }

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1:detect_stack_use_after_return=0:${ASAN_OPTIONS:-}"
export CUDA_VISIBLE_DEVICES=""  # CPU: the tests' own device; ASan and the CUDA driver disagree
status=0
printf '%-24s %-6s %s\n' test result "reports"
for t in "${tests[@]}"; do
  bin=$(realpath "$(find "$build/tests" -name "$t" -type f -perm -u+x | head -1)")
  log="$build/$t.sanitize.log"
  "$bin" > "$log" 2>&1  # from the source root, as ctest runs them
  rc=$?
  reports=$(grep -cE "ERROR: (AddressSanitizer|LeakSanitizer)" "$log")
  result=ok
  if [ $rc -ne 0 ] || [ "$reports" -gt 0 ]; then result=FAIL; status=1; fi
  printf '%-24s %-6s %s\n' "$t" "$result" "$reports (rc $rc, $(grep -cE '^\[       OK \]' "$log") gtest cases ok)"
  [ "$result" = FAIL ] && grep -A12 -E "ERROR: (AddressSanitizer|LeakSanitizer)|FAILED" "$log" | head -40
done
exit $status
