#!/usr/bin/env python3
"""The table of continued-training curves (scripts/gpu/continue_curves.sh; standard library):

    continue_table.py OUT_DIR

OUT_DIR/<lang>-<init>[-tag]/curve.json, each a list of points {step, tokens_seen, bits_per_byte,
...}. Per language, the oracle is the lowest bits per byte any run of it reached (the longest
runs: an upper bound on the true oracle, which more training could lower); for every run the
table gives bits per byte at step 0 and near 10M / 100M tokens, its best, and the tokens it needed
to come within 2 % of the oracle (interpolated between points; "-" if it never did).
"""
import glob
import json
import os
import sys


def load_runs(out_dir):
    runs = {}  # lang -> {name: [(tokens, bpb)]}
    for path in sorted(glob.glob(os.path.join(out_dir, "*", "curve.json"))):
        name = os.path.basename(os.path.dirname(path))
        lang, _, init = name.partition("-")
        with open(path) as f:
            points = [(p["tokens_seen"], p["bits_per_byte"]) for p in json.load(f)]
        if points:
            runs.setdefault(lang, {})[init] = points
    return runs


def at_tokens(points, tokens):
    """bits per byte of the last point at or below `tokens` (None when the run is shorter)."""
    if points[-1][0] < 0.9 * tokens:
        return None
    below = [bpb for t, bpb in points if t <= tokens * 1.05]
    return below[-1] if below else None


def tokens_to_reach(points, level):
    """Tokens at which the curve first reaches `level`, linearly interpolated."""
    for (t0, b0), (t1, b1) in zip(points, points[1:]):
        if b0 <= level:
            return t0
        if b1 <= level:
            return t0 + (t1 - t0) * (b0 - level) / (b0 - b1)
    return points[0][0] if len(points) == 1 and points[0][1] <= level else None


def fmt(x, spec=".4f"):
    return "-" if x is None else format(x, spec)


def millions(t):
    return "-" if t is None else f"{t / 1e6:.1f}M"


def main():
    out_dir = sys.argv[1]
    runs = load_runs(out_dir)
    if not runs:
        print(f"continue_table: no */curve.json under {out_dir}")
        return 1
    print("| language | init | step 0 | ~10M tokens | ~100M tokens | best (tokens) | oracle | "
          "tokens to within 2 % of the oracle |")
    print("|---|---|---|---|---|---|---|---|")
    for lang, by_init in sorted(runs.items()):
        oracle = min(bpb for points in by_init.values() for _, bpb in points)
        for init, points in sorted(by_init.items()):
            best_t, best = min(points, key=lambda p: p[1])
            print(f"| {lang} | {init} | {fmt(points[0][1])} | {fmt(at_tokens(points, 10e6))} | "
                  f"{fmt(at_tokens(points, 100e6))} | {fmt(best)} ({millions(best_t)}) | "
                  f"{fmt(oracle)} | {millions(tokens_to_reach(points, 1.02 * oracle))} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
