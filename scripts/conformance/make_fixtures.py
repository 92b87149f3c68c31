#!/usr/bin/env python3
"""Generates the non-downloaded conformance tokenizers from the corpus (deterministic):
- spm_unigram.model / spm_bpe.model: trained with the `spm_train` CLI (libsentencepiece),
- unigram.json: an XLM-R-style Unigram tokenizer.json (WhitespaceSplit + Metaspace) whose
  pieces and scores are spm_unigram's,
- wordpiece.json: a BERT-style WordPiece tokenizer.json (BertNormalizer + BertPreTokenizer)
  whose vocabulary is the corpus's chars, frequent words and frequent word endings.
Usage: make_fixtures.py CORPUS OUT_DIR
"""
import collections
import json
import os
import subprocess
import sys
import unicodedata

corpus, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
common = ["--input=" + corpus, "--character_coverage=0.9995", "--num_threads=2",
          "--minloglevel=2", "--seed_sentencepiece_size=200000"]
for kind, size in [("unigram", 3000), ("bpe", 3000)]:
    subprocess.run(["spm_train", *common, f"--model_prefix={out}/spm_{kind}", f"--model_type={kind}",
                    f"--vocab_size={size}", "--byte_fallback=true"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

pieces = []
for line in open(f"{out}/spm_unigram.vocab", encoding="utf-8"):
    piece, score = line.rstrip("\n").split("\t")
    pieces.append([piece, float(score)])
unigram = {
    "version": "1.0", "truncation": None, "padding": None,
    "added_tokens": [{"id": i, "content": pieces[i][0], "single_word": False, "lstrip": False,
                      "rstrip": False, "normalized": False, "special": True} for i in (1, 2)],
    "normalizer": None,
    "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
        {"type": "WhitespaceSplit"},
        {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True}]},
    "post_processor": None, "decoder": None,
    "model": {"type": "Unigram", "unk_id": 0, "vocab": pieces, "byte_fallback": True},
}
json.dump(unigram, open(f"{out}/unigram.json", "w", encoding="utf-8"), ensure_ascii=False)

words = collections.Counter()
chars = set()
for line in open(corpus, encoding="utf-8"):
    text = unicodedata.normalize("NFD", line.lower())
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    for w in text.split():
        words[w] += 1
        chars.update(w)
endings = collections.Counter()
for w, n in words.items():
    for k in (2, 3, 4):
        if len(w) > k:
            endings[w[-k:]] += n
vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
vocab += sorted(chars) + ["##" + c for c in sorted(chars)]
vocab += [w for w, _ in sorted(words.items(), key=lambda x: (-x[1], x[0]))[:3000] if len(w) > 1]
vocab += ["##" + e for e, _ in sorted(endings.items(), key=lambda x: (-x[1], x[0]))[:1500]]
seen = set()
vocab = [v for v in vocab if not (v in seen or seen.add(v))]
wordpiece = {
    "version": "1.0", "truncation": None, "padding": None,
    "added_tokens": [{"id": i, "content": vocab[i], "single_word": False, "lstrip": False,
                      "rstrip": False, "normalized": False, "special": True} for i in range(5)],
    "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                   "strip_accents": None, "lowercase": True},
    "pre_tokenizer": {"type": "BertPreTokenizer"},
    "post_processor": None, "decoder": None,
    "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
              "max_input_chars_per_word": 100, "vocab": {v: i for i, v in enumerate(vocab)}},
}
json.dump(wordpiece, open(f"{out}/wordpiece.json", "w", encoding="utf-8"), ensure_ascii=False)
print(f"make_fixtures: {len(pieces)} unigram pieces, {len(vocab)} wordpiece tokens", file=sys.stderr)
