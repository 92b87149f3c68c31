#!/usr/bin/env python3
"""Compares two id files line by line (one JSON array per line) and prints the agreement and
the first differing lines with the corpus text. Exit 1 when agreement < the target.
Usage: compare.py NAME REFERENCE OURS CORPUS [TARGET=0.999]"""
import json
import sys

name, ref_path, ours_path, corpus_path = sys.argv[1:5]
target = float(sys.argv[5]) if len(sys.argv) > 5 else 0.999
ref = open(ref_path, encoding="utf-8").read().splitlines()
ours = open(ours_path, encoding="utf-8").read().splitlines()
corpus = open(corpus_path, encoding="utf-8").read().split("\n")
if len(ref) != len(ours):
    print(f"{name}: line count differs: reference {len(ref)}, ours {len(ours)}")
    sys.exit(1)
diffs = [i for i, (a, b) in enumerate(zip(ref, ours)) if json.loads(a) != json.loads(b)]
agreement = 1 - len(diffs) / max(1, len(ref))
verdict = "ok" if agreement >= target else "BELOW TARGET"
print(f"{name:<14} {len(ref) - len(diffs):>5}/{len(ref)} identical lines ({100 * agreement:.2f}%) {verdict}")
for i in diffs[:5]:
    a, b = json.loads(ref[i]), json.loads(ours[i])
    k = next((j for j in range(min(len(a), len(b))) if a[j] != b[j]), min(len(a), len(b)))
    print(f"  line {i + 1}: {corpus[i][:70]!r}\n    reference {a[max(0, k - 2):k + 4]}\n    ours      {b[max(0, k - 2):k + 4]}")
sys.exit(0 if agreement >= target else 1)
