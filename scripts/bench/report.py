#!/usr/bin/env python3
"""Prints the Mistral-shape benchmark's table from the files scripts/bench/mistral_shape.sh
leaves in OUT_DIR (standard library only):

  torch.json                  scripts/bench/torch_bench.py (matmul rate, eager forward)
  cxx_forward.log             core/hypernet/hypernet_forward ("forward: ... X ms")
  transfer_<target>_<n>.log   `zett transfer` (key=value line) + .wall (seconds, whole command);
                              n = 0 is the first request after the server loaded the model
  load_<target>.txt           seconds to AVAILABLE, the server's load_seconds / warmup_seconds
  predict_tokens.log          `zett bench --rpc predict_tokens` (key=value line)
  shape.json                  the benchmark's shape (written by the driver)
Missing pieces print as "-" (e.g. on a CPU-only dry run); the markdown table comes last.
"""
import argparse
import glob
import json
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hypernet_flops  # noqa: E402


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return None


def key_values(text):
    """The last line of `text` with key=value pairs, as a dict."""
    if not text:
        return {}
    for line in reversed(text.strip().splitlines()):
        pairs = dict(re.findall(r"(\w+)=(\S+)", line))
        if len(pairs) >= 3:
            return pairs
    return {}


def number(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def fmt(x, digits=1, suffix=""):
    if x is not None and 0 < abs(x) < 1 and digits < 3:
        digits = 3  # tiny dry-run shapes
    return "-" if x is None else f"{x:.{digits}f}{suffix}"


def transfer_runs(out_dir, target, first=False):
    """[(client seconds, server seconds, predict seconds, wall seconds, vocab)] of the warm runs
    (run 0, the first request after load, is left out when there are more); first=True: [run 0]."""
    runs = []
    for log in sorted(glob.glob(os.path.join(out_dir, f"transfer_{target}_*.log"))):
        kv = key_values(read(log))
        if not kv:
            continue
        wall = number((read(log[:-4] + ".wall") or "").strip())
        runs.append((number(kv.get("seconds")), number(kv.get("server_seconds")),
                     number(kv.get("predict_seconds")), wall, kv.get("vocab")))
    if first:
        return runs[:1]
    return runs[1:] if len(runs) > 1 else runs


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_dir")
    a = ap.parse_args()
    out = a.out_dir
    shape = json.loads(read(os.path.join(out, "shape.json")) or "{}")
    torch_json = json.loads(read(os.path.join(out, "torch.json")) or "{}")
    h, i, d = shape.get("H"), shape.get("I"), shape.get("d")
    layers, length, rows = shape.get("layers"), shape.get("L"), shape.get("rows")

    matmul = torch_json.get("matmul_tflops")
    cxx_ms = None
    m = re.search(r"forward: .*?, ([0-9.]+) ms", read(os.path.join(out, "cxx_forward.log")) or "")
    if m:
        cxx_ms = float(m.group(1))
    ours_flops = spec_flops = None
    if None not in (h, i, d, layers, length, rows):
        ours_flops = hypernet_flops.forward_flops(rows, h, i, d, layers, length, ours=True)
        spec_flops = hypernet_flops.forward_flops(rows, h, i, d, layers, length, ours=False)
    cxx_tflops = ours_flops / cxx_ms / 1e9 if cxx_ms and ours_flops else None
    eager_ms = torch_json.get("eager_forward_ms")
    eager_tflops = torch_json.get("eager_tflops")

    def pct(x):
        return f"{100 * x / matmul:.0f} %" if x and matmul else "-"

    table = []  # (measure, value, target, verdict)

    def verdict(ok):
        return "-" if ok is None else ("yes" if ok else "NO")

    table.append((f"bf16 matmul {torch_json.get('matmul_n', '-')}^3 (torch.matmul)",
                  fmt(matmul, 1, " TFLOP/s"), "", ""))
    table.append((f"C++ forward, {rows} rows x L={length} (ForwardProjected)",
                  f"{fmt(cxx_ms, 1, ' ms')}, {fmt(cxx_tflops, 1, ' TFLOP/s')} = "
                  f"{pct(cxx_tflops)} of matmul",
                  ">= 50 % of matmul",
                  verdict(None if not (cxx_tflops and matmul) else cxx_tflops >= 0.5 * matmul)))
    table.append(("PyTorch eager forward (parity reference, same table)",
                  f"{fmt(eager_ms, 1, ' ms')}, {fmt(eager_tflops, 1, ' TFLOP/s')} = "
                  f"{pct(eager_tflops)} of matmul", "", ""))
    table.append(("eager time / C++ time",
                  fmt(eager_ms / cxx_ms if eager_ms and cxx_ms else None, 2, "x"), "", ""))
    diff = torch_json.get("max_rel_diff_vs_cxx")
    table.append(("max relative difference C++ vs eager (bf16)", fmt(diff, 4), "", ""))

    for target, label, limit in (("32k", "32k", 1.5), ("128k", "128k", None)):
        runs = transfer_runs(out, target)
        if not runs:
            table.append((f"transfer {label}: no run", "-", "", ""))
            continue
        client = statistics.median([r[0] for r in runs if r[0] is not None] or [0]) or None
        server = statistics.median([r[1] for r in runs if r[1] is not None] or [0]) or None
        predict = statistics.median([r[2] for r in runs if r[2] is not None] or [0]) or None
        wall = statistics.median([r[3] for r in runs if r[3] is not None] or [0]) or None
        vocab = runs[-1][4]
        m = re.search(r"in ([0-9.]+) s$", (read(os.path.join(out, f"decompose_{target}.log"))
                                           or "").strip())
        decompose = float(m.group(1)) if m else None
        table.append((f"transfer {label} ({vocab} tokens, bf16): server-side total / predict"
                      " / decompose (zett decompose, 1 thread)",
                      f"{fmt(server, 3, ' s')} / {fmt(predict, 3, ' s')} / "
                      f"{fmt(decompose, 3, ' s')}", "", ""))
        table.append((f"transfer {label}: end to end on loopback (client; whole command)",
                      f"{fmt(client, 3, ' s')}; {fmt(wall, 3, ' s')}",
                      f"<= {limit} s" if limit else "",
                      verdict(None if limit is None or client is None else client <= limit)))

        # Issue 13: the server restarts before each series, so run 0 is the first request
        # after load; warm-up at load should bring it within 1.2x of a warm run.
        first = transfer_runs(out, target, first=True)
        if len(transfer_runs(out, target)) and first and first[0][0] and client:
            load = dict(re.findall(r"(\w+)=(\S+)",
                                   read(os.path.join(out, f"load_{target}.txt")) or ""))
            ratio = first[0][0] / client
            table.append((f"transfer {label}: first request after load / warm (client)",
                          f"{fmt(first[0][0], 3, ' s')} / {fmt(client, 3, ' s')} = "
                          f"{fmt(ratio, 2, 'x')}", "<= 1.2x", verdict(ratio <= 1.2)))
            table.append((f"transfer {label}: load to AVAILABLE (load / warm-up in it)",
                          f"{fmt(number(load.get('available_after_seconds')), 1, ' s')} "
                          f"({fmt(number(load.get('load_seconds')), 1, ' s')} / "
                          f"{fmt(number(load.get('warmup_seconds')), 1, ' s')})", "", ""))

    kv = key_values(read(os.path.join(out, "predict_tokens.log")))
    p50, p99 = number(kv.get("p50_ms")), number(kv.get("p99_ms"))
    table.append((f"PredictTokens 64 tokens ({kv.get('calls', '-')} calls, 1 stream)",
                  f"p50 {fmt(p50, 2, ' ms')}, p99 {fmt(p99, 2, ' ms')}", "p50 <= 10 ms",
                  verdict(None if p50 is None else p50 <= 10)))

    print(f"\nMistral-7B-shape benchmark: d={d} H={h} I={i} layers={layers} L={length}, "
          f"V_orig={shape.get('v_orig')}, device {torch_json.get('device', '-')}, "
          f"torch {torch_json.get('torch', '-')}")
    if ours_flops:
        print(f"forward FLOPs for {rows} rows (hypernet_flops.py): ours {ours_flops / 1e12:.1f} "
              f"TFLOP (last layer at position 0 only), spec {spec_flops / 1e12:.1f} TFLOP")
    print("\n| measure | value | target | met |\n|---|---|---|---|")
    for row in table:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
