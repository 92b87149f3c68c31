#!/usr/bin/env bash
# Trains the ORIGINAL tokenizer of zett's base LM: SentencePiece BPE, vocab 4096, byte fallback,
# Llama/Mistral-style settings, on ~70% English / ~30% code (python, go, rust) from the train
# split of data/corpus (run scripts/data/build_corpus.sh first). Writes models/base-tokenizer/
# {tokenizer.model, tokenizer.json, tokenizer_config.json, special_tokens_map.json} and then
# checks tokenizer.json against libsentencepiece (scripts/data/verify_tokenizer.sh).
# Deterministic: same corpus -> same model bytes. Usage: bash scripts/data/train_base_tokenizer.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${ZETT_DATA_DIR:-data}
OUT=models/base-tokenizer
VOCAB=${VOCAB:-4096}
EN_BYTES=3500000    # English share 70%
CODE_BYTES=500000   # per language; 3 x 0.5 MB = 30%
work="$DATA/cache/base-tokenizer"
mkdir -p "$work" "$OUT"
[ -f "$DATA/corpus/MANIFEST.json" ] || { echo "no $DATA/corpus; run scripts/data/build_corpus.sh" >&2; exit 1; }

# Blank lines only separate documents; spm_train reads one sentence per line.
{
  head -c $EN_BYTES "$DATA/corpus/train/en.txt"
  for l in python go rust; do head -c $CODE_BYTES "$DATA/corpus/train/$l.txt"; echo; done
} | grep -v '^[[:space:]]*$' >"$work/input.txt"
echo "train_base_tokenizer: input $(wc -c <"$work/input.txt") bytes, $(wc -l <"$work/input.txt") lines"

# Settings of Llama-2 / Mistral-7B's tokenizer.model (identity normalization, digits split,
# whitespace-only pieces, byte fallback, <unk>=0 <s>=1 </s>=2, no pad).
spm_train --input="$work/input.txt" --model_prefix="$work/sp" --model_type=bpe \
  --vocab_size="$VOCAB" --character_coverage=0.99995 --byte_fallback=true --split_digits=true \
  --allow_whitespace_only_pieces=true --remove_extra_whitespaces=false \
  --normalization_rule_name=identity --add_dummy_prefix=true --max_sentencepiece_length=16 \
  --max_sentence_length=16384 --unk_id=0 --bos_id=1 --eos_id=2 --pad_id=-1 \
  --num_threads=2 --random_seed=17 --minloglevel=1
cp "$work/sp.model" "$OUT/tokenizer.model"
python3 scripts/data/sp_to_hf.py "$OUT/tokenizer.model" "$OUT" --configs
bash scripts/data/verify_tokenizer.sh "$OUT" | tee "$work/verify.txt"
