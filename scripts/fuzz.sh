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

# The server's request path: the generated zett.v1 messages and request validation.
gen="$out/gen"
mkdir -p "$gen"
protoc --cpp_out="$gen" proto/zett/v1/zett.proto
server_objs=()
for src in "$gen/proto/zett/v1/zett.pb.cc" server/request_validation.cc proto/wire/dtype_codec.cc \
  server/transfer_engine.cc; do
  obj="$out/obj/server_$(basename "${src%.cc}").o"
  server_objs+=("$obj")
  if [ ! -f "$obj" ] || [ "$src" -nt "$obj" ] || [ -n "$(find server proto \( -name '*.h' -o -name '*.proto' \) -newer "$obj" | head -1)" ]; then
    echo "$CXX -c $src"
    "$CXX" "${flags[@]}" -I"$gen" -c "$src" -o "$obj"
  fi
done
export ZETT_FUZZ_ORIGINAL="$PWD/models/base-lm/tokenizer.json"

# Request seeds: text-format messages encoded by protoc; the first byte picks the message.
request_seed() {  # FILE FIRST_BYTE MESSAGE TEXT
  { printf "$2"; protoc --encode="$3" proto/zett/v1/zett.proto <<<"$4"; } > "$1"
}

status=0
for target in core/tokenizer/fuzz/*_fuzzer.cc server/fuzz/*_fuzzer.cc; do
  name=$(basename "${target%.cc}")
  echo "=== $name (${seconds}s)"
  extra=()
  case $target in server/*) extra=(-I"$gen" "${server_objs[@]}" -lprotobuf) ;; esac
  # shellcheck disable=SC2086
  "$CXX" "${flags[@]}" -fsanitize=fuzzer,address "$target" "${objs[@]}" "${extra[@]}" $libs -o "$out/$name"
  corpus="$out/corpus/$name"
  mkdir -p "$corpus"
  # Seeds: real-looking inputs generated here (small tokenizer.json, text, requests).
  printf '%s' '{"model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]},"pre_tokenizer":{"type":"ByteLevel"}}' > "$corpus/seed_json"
  printf '%s' 'Hello wörld 日本語 🙂  \t x' > "$corpus/seed_text"
  if [ "$name" = request_fuzzer ]; then
    request_seed "$corpus/seed_transfer_list" '\0' zett.v1.TransferRequest \
      'model: "m" token_list { kind: TOKEN_KIND_BYTE_LEVEL tokens: "hello" tokens: "Ġworld" special_tokens: "<s>" } options { dtype: DTYPE_BF16 language: "de" }'
    request_seed "$corpus/seed_transfer_json" '\0' zett.v1.TransferRequest \
      "model: \"m\" tokenizer_json: '$(cat "$corpus/seed_json" | sed 's/"/\\"/g')'"
    request_seed "$corpus/seed_predict" '\1' zett.v1.PredictTokensRequest \
      'model: "m" tokens { kind: TOKEN_KIND_SENTENCEPIECE tokens: "▁hi" special_tokens: "</s>" }'
  fi
  if ! (cd "$out" && ASAN_OPTIONS=detect_leaks=1 "./$name" -max_total_time="$seconds" -rss_limit_mb=2048 \
        -max_len=4096 -print_final_stats=1 "corpus/$name" 2>&1 | tail -n 15); then
    echo "fuzz: $name FAILED"; status=1
  fi
done
[ $status -eq 0 ] && echo "fuzz: all targets ran ${seconds}s without crashes"
exit $status
