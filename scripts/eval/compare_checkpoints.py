"""Two hypernetwork checkpoints evaluated in one GPU call, side by side: per target kind
(identity, own-language UnigramLM, each real tokenizer) the mean over languages of hypernet /
original for the new and the old checkpoint, the worst language, how many languages the new one
improves, and (new only) how many it beats FVT on. Reads RUN_DIR/identity-{new,old}.json and
RUN_DIR/eval-{new,old}/results.json as scripts/gpu/runs/2026-12-03-s12.sh writes them.
Usage: compare_checkpoints.py RUN_DIR
"""
import json, os, sys

run = sys.argv[1]


def load(name):
    """records of one checkpoint: identity file + run_eval's merged results, if present"""
    records = []
    for path in (f"{run}/identity-{name}.json", f"{run}/eval-{name}/results.json"):
        if os.path.exists(path):
            records += json.load(open(path))
    return records


def ratios(records):
    """{kind: {language: hypernet / original}} and {kind: {language: hypernet < fvt}}"""
    orig = {r["language"]: r["bits_per_byte"] for r in records if r["method"] == "original"}
    by = {}
    for r in records:
        if r["method"] in ("hypernet", "fvt"):
            kind = "unigram (own)" if r["tokenizer"].startswith("unigram-") else r["tokenizer"]
            by.setdefault(kind, {}).setdefault(r["language"], {})[r["method"]] = r["bits_per_byte"]
    ratio = {k: {l: c["hypernet"] / orig[l] for l, c in v.items() if "hypernet" in c and l in orig}
             for k, v in by.items()}
    better = {k: {l: c["hypernet"] < c["fvt"] for l, c in v.items() if len(c) == 2}
              for k, v in by.items()}
    return ratio, better


new, new_better = ratios(load("new"))
old, _ = ratios(load("old"))
print("| target | languages | new × original (worst) | committed × original (worst) | new better on | new better than FVT |")
print("|---|---:|---:|---:|---:|---:|")
for kind in sorted(set(new) | set(old)):
    n, o = new.get(kind, {}), old.get(kind, {})
    cell = lambda d: "–" if not d else "%.4f (%s %.4f)" % (
        sum(d.values()) / len(d), max(d, key=d.get), max(d.values()))
    common = [l for l in n if l in o]
    wins = sum(1 for l in common if n[l] < o[l])
    b = new_better.get(kind, {})
    print(f"| {kind} | {len(n)} | {cell(n)} | {cell(o)} | {wins}/{len(common)} | "
          + (f"{sum(b.values())}/{len(b)}" if b else "–") + " |")
