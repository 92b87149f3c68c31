"""Test oracle for a host with Python `transformers` + `sentencepiece` (the GPU image has both).

Loads models/base-tokenizer with AutoTokenizer (-> LlamaTokenizerFast from tokenizer.json) and
with the slow LlamaTokenizer (libsentencepiece on tokenizer.model) and compares the ids (BOS
included) on every line of data/corpus/<split>/*.txt. Prints one row per language; exits 1 when
a language is below 99.9 % identical.
Usage: python3 scripts/data/check_tokenizer_transformers.py [models/base-tokenizer] [valid]
"""

import glob
import os
import sys

from transformers import AutoTokenizer, LlamaTokenizer


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "models/base-tokenizer"
    split = sys.argv[2] if len(sys.argv) > 2 else "valid"
    fast = AutoTokenizer.from_pretrained(path)
    slow = LlamaTokenizer.from_pretrained(path)
    print("loaded %s (vocab %d) and %s" % (type(fast).__name__, len(fast), type(slow).__name__))
    worst = 100.0
    for f in sorted(glob.glob(os.path.join("data/corpus", split, "*.txt"))):
        lines = [l for l in open(f, encoding="utf-8").read().split("\n") if l]
        same = sum(fast(l).input_ids == slow(l).input_ids for l in lines)
        pct = 100.0 * same / max(1, len(lines))
        worst = min(worst, pct)
        print("%-8s %6d lines %8.2f%% identical" % (os.path.basename(f)[:-4], len(lines), pct))
    return 0 if worst >= 99.9 else 1


if __name__ == "__main__":
    sys.exit(main())
