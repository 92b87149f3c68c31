#!/usr/bin/env python3
"""Sums the GPU kernels of a Chrome trace (Kineto's, as written by torch.profiler or by the C++
`hypernet_forward --trace`) so that two implementations of one computation can be compared.

    kernel_summary.py TRACE.json [--top 15] [--label NAME]

Prints the span from the first kernel's start to the last kernel's end, the summed kernel time
(the GPU is idle for the difference), the time per kernel class (GEMM, attention, normalisation,
elementwise, gather/copy, other), and the kernels that took the most time.
"""
import argparse
import collections
import json

CLASSES = [  # first match wins; lower-case substrings of kernel names
    ("gemm", ("gemm", "xmma", "cutlass", "nvjet", "cublas", "sm90_", "sm100_", "matmul")),
    ("attention", ("fmha", "flash", "attention", "softmax", "attn")),
    ("norm", ("layer_norm", "layernorm", "norm_kernel", "welford")),
    ("gather/copy", ("index", "gather", "scatter", "copy", "cat", "embedding", "memcpy", "memset",
                     "sort", "radix", "unique")),
    ("elementwise", ("elementwise", "vectorized", "unrolled", "gelu", "reduce")),
]


def kernel_class(name):
    lower = name.lower()
    for label, needles in CLASSES:
        if any(n in lower for n in needles):
            return label
    return "other"


def load_kernels(path):
    with open(path) as f:
        trace = json.load(f)
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    return [e for e in events
            if e.get("ph") == "X" and e.get("cat") in ("kernel", "gpu_memcpy", "gpu_memset")]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("trace")
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--label", default="")
    a = ap.parse_args()
    kernels = load_kernels(a.trace)
    if not kernels:
        raise SystemExit(f"{a.trace}: no GPU kernel events")
    start = min(float(e["ts"]) for e in kernels)
    end = max(float(e["ts"]) + float(e["dur"]) for e in kernels)
    busy = sum(float(e["dur"]) for e in kernels)
    by_name = collections.defaultdict(lambda: [0, 0.0])
    by_class = collections.defaultdict(float)
    for e in kernels:
        entry = by_name[e["name"]]
        entry[0] += 1
        entry[1] += float(e["dur"])
        by_class[kernel_class(e["name"])] += float(e["dur"])
    label = f"{a.label}: " if a.label else ""
    print(f"{label}{len(kernels)} kernels, span {(end - start) / 1e3:.1f} ms, "
          f"busy {busy / 1e3:.1f} ms ({100 * busy / (end - start):.0f} %)")
    print("| class | ms | share |")
    print("|---|---|---|")
    for name, us in sorted(by_class.items(), key=lambda kv: -kv[1]):
        print(f"| {name} | {us / 1e3:.1f} | {100 * us / busy:.0f} % |")
    print("| kernel | calls | ms | share |")
    print("|---|---|---|---|")
    for name, (calls, us) in sorted(by_name.items(), key=lambda kv: -kv[1][1])[:a.top]:
        short = name if len(name) <= 100 else name[:97] + "..."
        print(f"| `{short}` | {calls} | {us / 1e3:.1f} | {100 * us / busy:.1f} % |")


if __name__ == "__main__":
    main()
