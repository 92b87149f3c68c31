#!/usr/bin/env python3
"""The PyTorch side of the Mistral-shape benchmark (scripts/bench/mistral_shape.sh):

1. the card's bf16 matmul rate: torch.matmul of two n x n bf16 matrices (default 8192), warm,
   10 products per timed rep, best of max(--reps, 10) reps (2 n^3 FLOPs per product);
2. the hypernetwork forward in PyTorch eager, bf16, on the same checkpoint and surface forms as
   the C++ `hypernet_forward` run: the from-spec reference of scripts/parity/hypernet.py
   (imported, not copied) on the server's path, i.e. gathering from a table of projected source
   rows (computed once, timed separately), then encoder + heads in chunks of --chunk-rows;
3. optionally the largest relative difference between that output and the C++ one, and a
   Chrome trace of one forward (--trace) to compare kernel by kernel with the C++ one.

Writes a JSON file of the numbers (read by scripts/bench/report.py). Needs torch; safetensors
is used when importable (else the parity oracle's own reader).
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "parity"))
import hypernet as reference  # noqa: E402  scripts/parity/hypernet.py
import hypernet_flops  # noqa: E402


def load_tensors(path):
    try:
        from safetensors.torch import load_file
        return load_file(path)
    except ImportError:
        import hypernet_safetensors
        return hypernet_safetensors.load(path)[0]


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn, device, reps, warmup=1):
    """(best, median) seconds of fn() over reps runs after warmup runs."""
    for _ in range(warmup):
        fn()
    sync(device)
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def matmul_rate(n, reps, device, per_rep=10):
    """Each timed rep runs `per_rep` products back to back, so launch and sync overheads do not
    count against the card."""
    a = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    b = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    c = torch.empty(n, n, device=device, dtype=torch.bfloat16)

    def run():
        for _ in range(per_rep):
            torch.matmul(a, b, out=c)

    best, median = timed(run, device, reps, warmup=2)
    flops = 2.0 * n ** 3 * per_rep
    return {"matmul_n": n, "matmul_tflops": flops / best / 1e12,
            "matmul_median_tflops": flops / median / 1e12}


def full_config(c):
    c = dict(c)
    c["hn_hidden_size"] = c.get("hn_hidden_size") or c["n_embd"]
    c["hn_intermediate_size"] = c.get("hn_intermediate_size") or 2 * c["hn_hidden_size"]
    c["hn_num_attention_heads"] = c.get("hn_num_attention_heads") or \
        max(1, c["hn_hidden_size"] // 64)
    return c


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hypernet", required=True, help="checkpoint folder (config.json + weights)")
    ap.add_argument("--inputs", required=True, help="surface_forms + source_embeddings")
    ap.add_argument("--cxx-output", help="hypernet_forward's output, for the difference")
    ap.add_argument("--out", required=True, help="JSON file to write")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--matmul-n", type=int, default=8192)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--chunk-rows", type=int, default=8192)
    ap.add_argument("--trace", help="also record one forward under torch.profiler and write its "
                                    "Chrome trace here (scripts/bench/kernel_summary.py)")
    a = ap.parse_args()
    device = torch.device(a.device)
    dtype = torch.bfloat16
    result = {"device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
              "torch": torch.__version__}

    result.update(matmul_rate(a.matmul_n, max(a.reps, 10), device))
    print(f"torch_bench: bf16 matmul {a.matmul_n}^3: {result['matmul_tflops']:.1f} TFLOP/s",
          flush=True)

    with open(os.path.join(a.hypernet, "config.json")) as f:
        c = full_config(json.load(f))
    params = load_tensors(os.path.join(a.hypernet, "model.safetensors"))
    p = {k: v.to(device, dtype) for k, v in params.items()}
    del params
    inputs = load_tensors(a.inputs)
    source = inputs["source_embeddings"].to(device, dtype)
    ids = inputs["surface_forms"].to(device).long()
    rows, length = ids.shape
    h, i, d, layers = (c["hn_hidden_size"], c["hn_intermediate_size"], c["n_embd"],
                       c["hn_n_layers"])
    v_orig = c["original_vocab_size"]
    fallback_rows = max(c["hn_n_extra_tokens"], 1)

    with torch.no_grad():
        all_ids = torch.arange(v_orig + fallback_rows, device=device).view(-1, 1)

        def project():
            parts = [reference.embed_decomposition(p, c, all_ids[s:s + a.chunk_rows], source)
                     for s in range(0, all_ids.shape[0], a.chunk_rows)]
            return torch.cat(parts, 0)[:, 0]

        project_best, _ = timed(project, device, 1)
        table = project()

        def forward():
            outs = []
            for s in range(0, rows, a.chunk_rows):
                chunk = ids[s:s + a.chunk_rows]
                pooled = reference.encode_spec(p, c, chunk, table[chunk], None)
                outs.append(reference.heads(p, c, chunk, pooled, source))
            return {k: torch.cat([o[k] for o in outs], 0) for k in outs[0]
                    if outs[0][k] is not None}

        best, median = timed(forward, device, a.reps)
        out = forward()
        sync(device)

        if a.trace:
            from torch.profiler import ProfilerActivity, profile
            with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
                forward()
                sync(device)
            prof.export_chrome_trace(a.trace)

    spec_flops = hypernet_flops.forward_flops(rows, h, i, d, layers, length, ours=False)
    result.update({
        "rows": rows, "L": length, "H": h, "I": i, "d": d, "layers": layers,
        "eager_forward_ms": best * 1e3, "eager_forward_median_ms": median * 1e3,
        "eager_flops": spec_flops, "eager_tflops": spec_flops / best / 1e12,
        "eager_projection_ms": project_best * 1e3,
        "projection_flops": hypernet_flops.projection_flops(all_ids.shape[0], h, i, d),
    })
    print(f"torch_bench: eager forward {rows} x {length}: {best * 1e3:.1f} ms "
          f"({result['eager_tflops']:.1f} TFLOP/s of the spec count)", flush=True)

    if a.cxx_output and os.path.exists(a.cxx_output):
        ours = load_tensors(a.cxx_output)
        diffs = {}
        for key in ("embeddings_in", "embeddings_out", "bias"):
            if key in ours and key in out:
                ref = out[key].float().cpu()
                diffs[key] = ((ours[key].float() - ref).abs().max() /
                              ref.abs().max().clamp(min=1e-30)).item()
        result["max_rel_diff_vs_cxx"] = max(diffs.values()) if diffs else None
        print(f"torch_bench: max relative difference, C++ bf16 vs eager bf16: {diffs}")

    with open(a.out, "w") as f:
        json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
