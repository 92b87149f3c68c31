#!/usr/bin/env bash
# Builds the libFuzzer targets (core/tokenizer/fuzz/*_fuzzer.cc) with clang and
# -fsanitize=fuzzer,address and runs each for a bounded time (FUZZ_SECONDS, default 25).
# Fails when a target crashes, leaks or trips a sanitizer. Crash inputs stay in build/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-25}
out=build/fuzz
mkdir -p "$out/obj"
CXX=${FUZZ_CXX:-clang++}
if ! command -v "$CXX" >/dev/null; then
  echo "fuzz: $CXX not found (apt-get install clang)"; exit 1
fi
flags=(-std=c++17 -O1 -g -fsanitize=fuzzer-no-link,address -I. -DNDEBUG)
absl_libs=$(ls /usr/lib/x86_64-linux-gnu/libabsl_*.so | sed -E 's#.*/lib(absl_[a-z0-9_]+)\.so#-l\1#' | tr '\n' ' ')
libs="-licui18n -licuuc -licudata -lonig -Wl,--start-group $absl_libs -Wl,--end-group -lpthread"

# Library objects, compiled once, two at a time.
srcs=$(ls core/tokenizer/*.cc core/io/json_fields.cc)  # the tokenizer library and its deps
objs=()
for src in $srcs; do
  obj="$out/obj/$(basename "${src%.cc}").o"
  objs+=("$obj")
  if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find core/tokenizer core/io -name '*.h' -newer "$obj")" ]; then
    echo "$CXX -c $src"
    "$CXX" "${flags[@]}" -c "$src" -o "$obj" &
    while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n; done
  fi
done
wait

status=0
for target in core/tokenizer/fuzz/*_fuzzer.cc; do
  name=$(basename "${target%.cc}")
  echo "=== $name (${seconds}s)"
  # shellcheck disable=SC2086
  "$CXX" "${flags[@]}" -fsanitize=fuzzer,address "$target" "${objs[@]}" $libs -o "$out/$name"
  corpus="$out/corpus/$name"
  mkdir -p "$corpus"
  # Seeds: real-looking inputs generated here (small tokenizer.json, text).
  printf '%s' '{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]},"pre_tokenizer":{"type":"ByteLevel"}}' > "$corpus/seed_json"
  printf '%s' 'Hello wörld 日本語 🙂  \t x' > "$corpus/seed_text"
  if ! (cd "$out" && ASAN_OPTIONS=detect_leaks=1 "./$name" -max_total_time="$seconds" -rss_limit_mb=2048 \
        -max_len=4096 -print_final_stats=1 "corpus/$name" 2>&1 | tail -n 15); then
    echo "fuzz: $name FAILED"; status=1
  fi
done
[ $status -eq 0 ] && echo "fuzz: all targets ran ${seconds}s without crashes"
exit $status
