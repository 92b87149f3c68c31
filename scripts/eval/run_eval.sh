#!/usr/bin/env bash
# The full evaluation of issue 5 (and the base LM's per-language test bits/byte of issue 4):
# `zett-train eval` over data/corpus/test/*.txt with, for every language, its own UnigramLM
# target (data/tokenizers/<lang>, the paper's setting) plus the real-world tokenizers, for the
# methods original, hypernet, fvt, lexical and random. docs/evaluation.md describes the protocol.
#
#   usage: scripts/eval/run_eval.sh ZETT_TRAIN OUT_DIR [extra zett-train eval flags...]
#   e.g.   scripts/eval/run_eval.sh build/gpu/core/train/zett-train /tmp/eval --device=cuda
#          scripts/eval/run_eval.sh build/cmake/core/train/zett-train /tmp/eval --max_bytes=20000
#
# Environment: BASE (models/base-lm), HYPERNET (models/hypernet), DATA (data), LANGS (default: all
# test files), REAL_TOKENIZERS (default: "llama3 qwen3 gemma3 gpt4o mistral-7b gpt2"; those
# present under $DATA/tokenizers are used), METHODS (default: all five).
# Builds missing target tokenizers with scripts/data/train_target_tokenizers.sh. Writes
# OUT_DIR/results.json, OUT_DIR/results.md (all records, one table) and
# OUT_DIR/base_lm_test_bpb.md (the original tokenizer alone per language); prints the table last.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:?usage: run_eval.sh ZETT_TRAIN OUT_DIR [flags...]}
out=${2:?usage: run_eval.sh ZETT_TRAIN OUT_DIR [flags...]}
shift 2
BASE=${BASE:-models/base-lm}
HYPERNET=${HYPERNET:-models/hypernet}
DATA=${DATA:-data}
METHODS=${METHODS:-original,hypernet,fvt,lexical,random}
REAL_TOKENIZERS=${REAL_TOKENIZERS:-llama3 qwen3 gemma3 gpt4o mistral-7b gpt2}
[ -x "$bin" ] || { echo "run_eval: $bin is not an executable (build zett-train first)" >&2; exit 1; }
[ -d "$DATA/corpus/test" ] || { echo "run_eval: no $DATA/corpus/test (scripts/data/build_corpus.sh, or unpack data/bundle.tar.xz)" >&2; exit 1; }
mkdir -p "$out"
if [ -n "${LANGS:-}" ]; then read -ra langs <<<"$LANGS"; else
  mapfile -t langs < <(ls "$DATA/corpus/test" | sed -n 's/\.txt$//p')
fi

# Target tokenizers: per-language Unigram (built if missing) and the real ones. A GPU host gets
# them as $DATA/tokenizers.tar.xz (tar -C data -cJf data/tokenizers.tar.xz tokenizers: ~8 MB
# instead of ~70 MB of JSON, under the 64 MiB a device call carries).
if [ ! -d "$DATA/tokenizers" ] && [ -f "$DATA/tokenizers.tar.xz" ]; then
  tar -C "$DATA" -xJf "$DATA/tokenizers.tar.xz"
fi
missing=()
for lang in "${langs[@]}"; do
  [ -f "$DATA/tokenizers/$lang/tokenizer.json" ] || missing+=("$lang")
done
if [ ${#missing[@]} -gt 0 ] || [ ! -f "$DATA/tokenizers/gpt2/tokenizer.json" ]; then
  if command -v spm_train >/dev/null; then
    ZETT_DATA_DIR="$DATA" bash scripts/data/train_target_tokenizers.sh "${missing[@]}" ||
      echo "run_eval: train_target_tokenizers.sh failed; evaluating the tokenizers present" >&2
  else
    echo "run_eval: spm_train not installed; evaluating the tokenizers present" >&2
  fi
fi
real=()
for name in $REAL_TOKENIZERS; do
  f="$DATA/tokenizers/$name/tokenizer.json"
  if [ -f "$f" ]; then real+=("--target_tokenizer=$f"); else echo "run_eval: no $f, skipped" >&2; fi
done

start=$SECONDS
parts=()
for lang in "${langs[@]}"; do
  text="$DATA/corpus/test/$lang.txt"
  targets=("${real[@]}")
  own="$DATA/tokenizers/$lang/tokenizer.json"
  [ -f "$own" ] && targets+=("--target_tokenizer=unigram-$lang=$own")
  echo "run_eval: $lang (${#targets[@]} target tokenizers, $((SECONDS - start))s so far)" >&2
  "$bin" eval --base="$BASE" --hypernet="$HYPERNET" --text="$text" "${targets[@]}" \
    --method="$METHODS" --out="$out/$lang.json" --markdown="$out/$lang.md" "$@" \
    >/dev/null 2>"$out/$lang.log" || { echo "run_eval: $lang failed:" >&2; tail -5 "$out/$lang.log" >&2; exit 1; }
  parts+=("$out/$lang.json")
done
echo "run_eval: ${#langs[@]} languages in $((SECONDS - start))s" >&2

python3 - "$out" "${parts[@]}" <<'PY'
import json, math, sys
out, parts = sys.argv[1], sys.argv[2:]
records = [r for p in parts for r in json.load(open(p))]
json.dump(records, open(f"{out}/results.json", "w"), indent=2)
methods = [m for m in ["original", "hypernet", "fvt", "lexical", "random"]
           if any(r["method"] == m for r in records)]
orig = {r["language"]: r for r in records if r["method"] == "original"}
rows = {}
for r in records:
    if r["method"] != "original":
        rows.setdefault((r["language"], r["tokenizer"]), {})[r["method"]] = r
head = ("| language | tokenizer | " + " | ".join(f"{m} bits/byte" for m in methods)
        + " | tokens/byte original | tokens/byte target | length reduction |")
lines = [head, "|---|---|" + "---:|" * (len(methods) + 3)]
fmt = lambda v, f="%.4f": "–" if v is None else f % v
for (lang, tok), cells in sorted(rows.items()):
    o = orig.get(lang)
    vals = [o["bits_per_byte"] if (m == "original" and o) else
            (cells[m]["bits_per_byte"] if m in cells else None) for m in methods]
    t = next(iter(cells.values()))["tokens_per_byte"]
    ot = o["tokens_per_byte"] if o else None
    red = 100 * (1 - t / ot) if ot else None
    lines.append(f"| {lang} | {tok} | " + " | ".join(fmt(v) for v in vals)
                 + f" | {fmt(ot)} | {fmt(t)} | {fmt(red, '%.1f %%')} |")
# Per target kind (own Unigram vs each real tokenizer): means over languages, and the issue's
# targets: hypernet within 5 % of original on average, closer than FVT on every language.
kinds = sorted({("unigram (own language)" if tok.startswith("unigram-") else tok)
                for (_, tok) in rows})
summary = ["", "| target | languages | " + " | ".join(f"mean {m}" for m in methods)
           + " | hypernet / original | hypernet better than fvt | mean length reduction |",
           "|---|---:|" + "---:|" * (len(methods) + 3)]
for kind in kinds:
    sel = [(lang, c) for (lang, tok), c in rows.items()
           if (tok.startswith("unigram-") if kind.startswith("unigram") else tok == kind)]
    mean = lambda xs: sum(xs) / len(xs) if xs else None
    ms = []
    for m in methods:
        if m == "original":
            ms.append(mean([orig[l]["bits_per_byte"] for l, _ in sel if l in orig]))
        else:
            ms.append(mean([c[m]["bits_per_byte"] for _, c in sel if m in c]))
    ratio = better = None
    if "hypernet" in methods and "original" in methods:
        rs = [c["hypernet"]["bits_per_byte"] / orig[l]["bits_per_byte"] for l, c in sel
              if "hypernet" in c and l in orig]
        ratio = mean(rs)
    if "hypernet" in methods and "fvt" in methods:
        better = sum(1 for _, c in sel if "hypernet" in c and "fvt" in c
                     and c["hypernet"]["bits_per_byte"] < c["fvt"]["bits_per_byte"])
    reds = [100 * (1 - next(iter(c.values()))["tokens_per_byte"] / orig[l]["tokens_per_byte"])
            for l, c in sel if l in orig]
    summary.append(f"| {kind} | {len(sel)} | " + " | ".join(fmt(v) for v in ms)
                   + f" | {fmt(ratio, '%.3f')} | {'–' if better is None else f'{better}/{len(sel)}'}"
                   + f" | {fmt(mean(reds), '%.1f %%')} |")
table = "\n".join(lines + summary) + "\n"
open(f"{out}/results.md", "w").write(table)
base = ["| language | bits/byte | tokens/byte | bytes |", "|---|---:|---:|---:|"]
for lang in sorted(orig):
    o = orig[lang]
    base.append(f"| {lang} | {o['bits_per_byte']:.4f} | {o['tokens_per_byte']:.4f} | {o['bytes']} |")
if orig:
    base.append(f"| mean | {sum(o['bits_per_byte'] for o in orig.values()) / len(orig):.4f} | | |")
open(f"{out}/base_lm_test_bpb.md", "w").write("\n".join(base) + "\n")
print("## Base LM, original tokenizer (test split)\n")
print("\n".join(base))
print("\n## Transfer\n")
print(table)
PY
