#!/usr/bin/env python3
"""Parity oracle: our LibTorch hypernetwork (core/hypernet) against a PyTorch one.

The reference below is written from the specification (docs/hypernet.md; the ZeTT paper's
hypernetwork as published in zett's PyTorch port, hf_hypernet/modeling_hypernet.py), in plain
torch: source-embedding lookup with fallback rows, in_scaler, input projection + ProjectorBlock,
learned positions 0..L-1 + token type 0, embedding LayerNorm, post-LN RoBERTa layers (exact GELU,
eps 1e-5, additive finfo.min padding mask), first-position pooling, separate heads, bias head,
output scalers, language embedding as an extra last element; plus our residual variant.
When `transformers` is importable, the encoder is also run through transformers' RobertaModel
with the PyTorch port's calling convention (inputs_embeds, explicit position ids, the language
element's position/type embeddings subtracted first) as a second reference ("port" column).

For each case it draws random weights, writes a checkpoint folder (config.json +
model.safetensors, the PyTorch port's parameter names), runs the C++ `hypernet_forward` tool
on the same surface-form matrix and source embeddings, and prints a table of the max relative
error, max |ours - ref| / max |ref| per output. Target: <= 1e-4 in float32 (bf16 rows, against
the fp32 reference, are informational: <= 5e-2). Exits non-zero when a float32 case misses
the target.

This is a test oracle, not part of the product. Needs torch (transformers optional).

  # CPU, small sizes (Debian: apt-get install python3-torch; run /usr/bin/python3):
  python3 scripts/parity/hypernet.py --binary build/hypernet/core/hypernet/hypernet_forward
  # GPU host, after scripts/gpu/build_and_test.sh built build/gpu (LD_LIBRARY_PATH as it sets):
  python3 scripts/parity/hypernet.py --binary build/gpu/core/hypernet/hypernet_forward \
      --device cuda --rows 16384 --repeat 3
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hypernet_safetensors as st  # noqa: E402

try:
    import transformers
except ImportError:  # the port column is left out
    transformers = None

LN_EPS = 1e-5        # RoBERTa layers and embedding LayerNorm (roberta-base)
PROJ_LN_EPS = 1e-6   # ProjectorBlock LayerNorm
MAX_POSITIONS = 514  # roberta-base


# ----------------------------------------------------------------------------- cases

def cases(scale):
    """(name, config) pairs. `scale` "tiny" keeps every case small enough for a 2-core CPU."""
    def cfg(d, h, heads, tied, bias, langs, v_orig, extra, residual=False, single=False, pad=1):
        return {
            "hn_model_name_or_path": "roberta-base", "hn_model_type": "roberta",
            "hn_surface_maxlen": 7, "hn_n_layers": 3, "n_embd": d, "hn_hidden_size": h,
            "hn_intermediate_size": 2 * h, "hn_num_attention_heads": heads,
            "hn_rescale_embeddings": True, "hn_embed_using_source_embeddings": True,
            "hn_single_head": single, "hn_predict_bias": bias,
            "hn_embed_lang_id": langs > 0, "n_langs": langs if langs > 0 else None,
            "hn_embed_target_priors": False, "hn_add_inter_token_attention": False,
            "hn_concat_last_hidden_state": False,
            "original_vocab_size": v_orig, "pad_token_id": pad,
            "separate_out_embeddings": not tied, "hn_n_extra_tokens": extra,
            "hn_residual": residual, "hn_residual_alpha": 0.7,
        }
    yield "H256 untied+bias+lang", cfg(128, 256, 4, False, True, 4, 3000, 20)
    yield "H256 tied", cfg(256, 256, 4, True, False, 0, 3000, 0, pad=3)
    yield "H256 single-head untied", cfg(128, 256, 4, False, True, 0, 3000, 5, single=True)
    yield "H256 residual untied", cfg(128, 256, 4, False, False, 0, 3000, 5, residual=True)
    if scale == "full":
        yield "H1024 untied+bias+lang", cfg(1024, 1024, 16, False, True, 26, 32000, 522)
        yield "H1024 tied+bias", cfg(1024, 1024, 16, True, True, 0, 32000, 161)
    else:
        yield "H1024 untied+bias+lang", cfg(1024, 1024, 16, False, True, 26, 4000, 100)
        yield "H1024 tied+bias", cfg(1024, 1024, 16, True, True, 0, 4000, 16)


def n_in(c):
    return 2 * c["n_embd"] if c["separate_out_embeddings"] else c["n_embd"]


def random_parameters(c, gen):
    """Every parameter, by the PyTorch port's names, with values that make each term matter."""
    d, h, i = c["n_embd"], c["hn_hidden_size"], c["hn_intermediate_size"]
    p = {}

    def normal(shape, std):
        return torch.randn(shape, generator=gen) * std

    def linear(name, fan_in, fan_out, zero=False):
        p[name + ".weight"] = torch.zeros(fan_out, fan_in) if zero else normal((fan_out, fan_in), 0.05)
        p[name + ".bias"] = torch.zeros(fan_out) if zero else normal((fan_out,), 0.02)

    def layer_norm(name, dim):
        p[name + ".weight"] = 1 + normal((dim,), 0.1)
        p[name + ".bias"] = normal((dim,), 0.05)

    def block(name):
        linear(name + ".dense1", h, i)
        linear(name + ".dense2", i, h)
        layer_norm(name + ".ln", h)

    if c["hn_embed_lang_id"]:
        p["lang_embeddings.weight"] = normal((c["n_langs"], h), 0.05)
    p["model.embeddings.word_embeddings.weight"] = torch.zeros(c["pad_token_id"] + 1, h)
    p["model.embeddings.position_embeddings.weight"] = normal((MAX_POSITIONS, h), 0.05)
    p["model.embeddings.token_type_embeddings.weight"] = normal((1, h), 0.05)
    layer_norm("model.embeddings.LayerNorm", h)
    for l in range(c["hn_n_layers"]):
        q = f"model.encoder.layer.{l}"
        for m in ("attention.self.query", "attention.self.key", "attention.self.value",
                  "attention.output.dense"):
            linear(f"{q}.{m}", h, h)
        layer_norm(f"{q}.attention.output.LayerNorm", h)
        linear(f"{q}.intermediate.dense", h, i)
        linear(f"{q}.output.dense", i, h)
        layer_norm(f"{q}.output.LayerNorm", h)
    p["fallback_embeddings.weight"] = normal((max(c["hn_n_extra_tokens"], 1), n_in(c)), 0.05)
    linear("input_projection.0", n_in(c), h)
    block("input_projection.1")
    block("output_projection.0")
    # The residual case keeps its heads non-zero so that they are tested too.
    linear("output_projection.1", h, n_in(c) if c["hn_single_head"] else d)
    if c["separate_out_embeddings"] and not c["hn_single_head"]:
        block("output_projection_out.0")
        linear("output_projection_out.1", h, d)
    p["in_scaler.w"] = (0.01 + torch.rand(1, n_in(c), generator=gen) * 0.03)
    p["in_scaler.b"] = normal((1, n_in(c)), 0.01)
    if not c["hn_residual"]:
        p["scaler.w"] = 0.5 + torch.rand(1, d, generator=gen)
        p["scaler.b"] = normal((1, d), 0.1)
        if c["separate_out_embeddings"]:
            p["out_scaler.w"] = 0.5 + torch.rand(1, d, generator=gen)
            p["out_scaler.b"] = normal((1, d), 0.1)
    if c["hn_predict_bias"]:
        linear("bias_projection", h, 1)
    return p


def surface_forms(c, rows, gen):
    """[rows, 7] int32: 1..7 real ids (more short ones, as in real vocabularies), ids drawn over
    original and fallback ids except the pad id, then pad. Without a language element, row 1 is
    all padding (every key masked: uniform attention in the reference)."""
    width = c["hn_surface_maxlen"]
    limit = c["original_vocab_size"] + max(c["hn_n_extra_tokens"], 1)
    ids = torch.randint(0, limit - 1, (rows, width), generator=gen)
    ids = torch.where(ids >= c["pad_token_id"], ids + 1, ids)
    lengths = torch.multinomial(torch.tensor([30., 30, 20, 10, 5, 3, 2]), rows, replacement=True,
                                generator=gen) + 1
    ids[torch.arange(width)[None, :] >= lengths[:, None]] = c["pad_token_id"]
    if not c["hn_embed_lang_id"] and rows > 1:
        ids[1] = c["pad_token_id"]
    return ids.to(torch.int32)


# ----------------------------------------------------------------------------- reference

def projector(p, name, x):
    h = F.gelu(F.linear(x, p[name + ".dense1.weight"], p[name + ".dense1.bias"]), approximate="tanh")
    h = F.gelu(F.linear(h, p[name + ".dense2.weight"], p[name + ".dense2.bias"]), approximate="tanh")
    return F.layer_norm(h + x, (x.shape[-1],), p[name + ".ln.weight"], p[name + ".ln.bias"],
                        PROJ_LN_EPS)


def embed_decomposition(p, c, ids, source):
    """[V, L] ids -> [V, L, H] projected inputs."""
    v_orig = c["original_vocab_size"]
    rows = source[ids.clamp(max=v_orig - 1)]
    rows = p["in_scaler.w"] * rows + p["in_scaler.b"]
    fallback = p["fallback_embeddings.weight"][(ids - v_orig).clamp(min=0)]
    x = torch.where((ids >= v_orig)[..., None], fallback, rows)
    x = F.linear(x, p["input_projection.0.weight"], p["input_projection.0.bias"])
    return projector(p, "input_projection.1", x)


def roberta_layer(p, c, name, x, additive_mask):
    b, t, h = x.shape
    heads = c["hn_num_attention_heads"]

    def split(y):
        return y.view(b, t, heads, h // heads).transpose(1, 2)

    lin = lambda n, y: F.linear(y, p[f"{name}.{n}.weight"], p[f"{name}.{n}.bias"])  # noqa: E731
    q, k, v = (split(lin(f"attention.self.{n}", x)) for n in ("query", "key", "value"))
    scores = q @ k.transpose(-1, -2) / math.sqrt(h // heads) + additive_mask
    context = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, h)
    a = F.layer_norm(lin("attention.output.dense", context) + x, (h,),
                     p[f"{name}.attention.output.LayerNorm.weight"],
                     p[f"{name}.attention.output.LayerNorm.bias"], LN_EPS)
    f = lin("output.dense", F.gelu(lin("intermediate.dense", a)))
    return F.layer_norm(f + a, (h,), p[f"{name}.output.LayerNorm.weight"],
                        p[f"{name}.output.LayerNorm.bias"], LN_EPS)


def encode_spec(p, c, ids, x, lang):
    """x: [V, L, H] -> pooled h_0 [V, H]; the whole encoder written out."""
    v, length, h = x.shape
    keep = ids != c["pad_token_id"]
    x = x + p["model.embeddings.position_embeddings.weight"][:length] + \
        p["model.embeddings.token_type_embeddings.weight"][0]
    if c["hn_embed_lang_id"]:
        x = torch.cat([x, p["lang_embeddings.weight"][lang].expand(v, 1, h)], 1)
        keep = torch.cat([keep, torch.ones(v, 1, dtype=torch.bool, device=keep.device)], 1)
    x = F.layer_norm(x, (h,), p["model.embeddings.LayerNorm.weight"],
                     p["model.embeddings.LayerNorm.bias"], LN_EPS)
    additive = (~keep).to(x.dtype)[:, None, None, :] * torch.finfo(x.dtype).min
    for l in range(c["hn_n_layers"]):
        x = roberta_layer(p, c, f"model.encoder.layer.{l}", x, additive)
    return x[:, 0]


def encode_port(p, c, ids, x, lang, device):
    """The same through transformers' RobertaModel, called as zett's PyTorch port calls it."""
    rc = transformers.RobertaConfig(
        vocab_size=c["pad_token_id"] + 1, hidden_size=c["hn_hidden_size"],
        num_hidden_layers=c["hn_n_layers"], num_attention_heads=c["hn_num_attention_heads"],
        intermediate_size=c["hn_intermediate_size"], max_position_embeddings=MAX_POSITIONS,
        type_vocab_size=1, layer_norm_eps=LN_EPS, hidden_act="gelu", pad_token_id=1,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    try:
        model = transformers.RobertaModel(rc, add_pooling_layer=False,
                                          attn_implementation="eager")
    except TypeError:
        rc._attn_implementation = "eager"
        model = transformers.RobertaModel(rc, add_pooling_layer=False)
    state = {k[len("model."):]: v for k, v in p.items() if k.startswith("model.")}
    model.load_state_dict(state, strict=False)
    model.to(device).eval()
    keep = ids != c["pad_token_id"]
    if c["hn_embed_lang_id"]:
        emb = model.embeddings
        lang_row = p["lang_embeddings.weight"][lang] - (
            emb.token_type_embeddings.weight[0] + emb.position_embeddings.weight[ids.shape[1]])
        x = torch.cat([x, lang_row.expand(x.shape[0], 1, -1)], 1)
        keep = torch.cat([keep, torch.ones(x.shape[0], 1, dtype=torch.bool, device=device)], 1)
    positions = torch.arange(keep.shape[1], device=device).expand(keep.shape)
    with torch.no_grad():
        out = model(inputs_embeds=x, attention_mask=keep.long(), position_ids=positions)
    return out.last_hidden_state[:, 0]


def heads(p, c, ids, pooled, source):
    d = c["n_embd"]
    lin = lambda n, y: F.linear(y, p[n + ".weight"], p[n + ".bias"])  # noqa: E731
    main = lin("output_projection.1", projector(p, "output_projection.0", pooled))
    out = None
    if c["hn_single_head"]:
        e_in = main[:, :d]
        if c["separate_out_embeddings"]:
            out = main[:, d:]
    else:
        e_in = main
        if c["separate_out_embeddings"]:
            out = lin("output_projection_out.1", projector(p, "output_projection_out.0", pooled))
    if c["hn_residual"]:
        first = ids[:, 0]
        base = source[first.clamp(max=c["original_vocab_size"] - 1)]
        base = torch.where((first >= c["original_vocab_size"])[:, None], torch.zeros_like(base), base)
        scale = c["hn_residual_alpha"] / math.sqrt(d)
        e_in = base[:, :d] + scale * e_in
        if out is not None:
            out = base[:, d:2 * d] + scale * out
    else:
        e_in = p["scaler.w"] * e_in + p["scaler.b"]
        if out is not None:
            out = p["out_scaler.w"] * out + p["out_scaler.b"]
    bias = lin("bias_projection", pooled)[:, 0] if c["hn_predict_bias"] else None
    return {"embeddings_in": e_in, "embeddings_out": out, "bias": bias}


def reference(p, c, ids, source, lang, encoder, device):
    with torch.no_grad():
        x = embed_decomposition(p, c, ids, source)
        pooled = (encode_spec(p, c, ids, x, lang) if encoder == "spec"
                  else encode_port(p, c, ids, x, lang, device))
        return heads(p, c, ids, pooled, source)


# ----------------------------------------------------------------------------- driver

def max_relative_error(ours, ref):
    ref = ref.double().cpu()
    return ((ours.double().cpu() - ref).abs().max() / ref.abs().max().clamp(min=1e-30)).item()


def run_case(args, name, c, gen, workdir):
    device = torch.device(args.device)
    p = random_parameters(c, gen)
    source = torch.randn(c["original_vocab_size"], n_in(c), generator=gen) * \
        (0.5 + torch.rand(n_in(c), generator=gen)) + 0.3 * torch.randn(n_in(c), generator=gen)
    ids = surface_forms(c, args.rows, gen)
    lang = 1 if c["hn_embed_lang_id"] else None

    folder = os.path.join(workdir, name.replace(" ", "_").replace("+", "_"))
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(c, f, indent=2)
    st.save(p, os.path.join(folder, "model.safetensors"), {"format": "pt"})
    inputs = {"surface_forms": ids, "source_embeddings": source}
    if lang is not None:
        inputs["lang_index"] = torch.tensor([lang], dtype=torch.int64)
    st.save(inputs, os.path.join(folder, "inputs.safetensors"))

    pd = {k: v.to(device) for k, v in p.items()}
    ids_d, source_d = ids.to(device).long(), source.to(device)
    start = time.perf_counter()
    ref = reference(pd, c, ids_d, source_d, lang, "spec", device)
    if device.type == "cuda":
        torch.cuda.synchronize()
    ref_ms = (time.perf_counter() - start) * 1e3
    port = reference(pd, c, ids_d, source_d, lang, "port", device) if transformers else None

    rows = []
    for dtype, projected in (("float32", False), ("float32", True), ("bfloat16", False)):
        out_path = os.path.join(folder, f"out_{dtype}_{int(projected)}.safetensors")
        cmd = [args.binary, f"--hypernet={folder}", f"--inputs={folder}/inputs.safetensors",
               f"--output={out_path}", f"--device={args.device}", f"--dtype={dtype}",
               f"--projected={'true' if projected else 'false'}", f"--repeat={args.repeat}"]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            print(proc.stdout + proc.stderr, file=sys.stderr)
            rows.append((name, dtype, projected, None, None, None, None, None, ref_ms, False))
            continue
        ours, meta = st.load(out_path)
        errors = []
        for key in ("embeddings_in", "embeddings_out", "bias"):
            if ref[key] is None:
                assert key not in ours, f"{name}: C++ predicted {key}, the reference does not"
                errors.append(None)
            else:
                errors.append(max_relative_error(ours[key], ref[key]))
        port_error = None
        if port is not None:
            # Rows of nothing but padding are left out: how a fully masked row attends differs
            # between transformers versions (they are special tokens, overwritten anyway).
            real = (ids != c["pad_token_id"]).any(1)
            port_error = max(max_relative_error(ours[k][real], port[k].cpu()[real])
                             for k in port if port[k] is not None)
        target = 1e-4 if dtype == "float32" else 5e-2
        ok = all(e is None or e <= target for e in errors)
        rows.append((name, dtype, projected, *errors, port_error, float(meta["forward_ms"]),
                     ref_ms, ok))
    return rows


def fmt(x):
    return "-" if x is None else f"{x:.2e}"


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True, help="path to the hypernet_forward tool")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--rows", type=int, default=512, help="target tokens per case")
    parser.add_argument("--scale", choices=["tiny", "full"], default=None,
                        help="full: V_orig 32000 for the H1024 cases (default on cuda)")
    parser.add_argument("--repeat", type=int, default=1, help="timed C++ passes (fastest kept)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", help="write the case folders here instead of a temp dir")
    parser.add_argument("--only", default="", help="run only cases whose name contains this")
    args = parser.parse_args()
    scale = args.scale or ("full" if args.device.startswith("cuda") else "tiny")
    gen = torch.Generator().manual_seed(args.seed)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False

    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.keep or tmp
        rows = []
        for name, c in cases(scale):
            if args.only not in name:
                continue
            rows.extend(run_case(args, name, c, gen, workdir))

    print(f"\nhypernet parity: {args.rows} rows x L=7, device {args.device}, torch "
          f"{torch.__version__}, transformers "
          f"{transformers.__version__ if transformers else 'absent (port column empty)'}")
    print("max relative error = max|ours - ref| / max|ref| per output; ref = spec in fp32\n")
    print("| case | C++ dtype | path | E_in | E_out | bias | vs port | C++ ms | ref ms | ok |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    failed = 0
    for name, dtype, projected, e_in, e_out, bias, port, ms, ref_ms, ok in rows:
        path = "projected table" if projected else "forward"
        print(f"| {name} | {dtype} | {path} | {fmt(e_in)} | {fmt(e_out)} | {fmt(bias)} | "
              f"{fmt(port)} | {fmt(ms) if ms is None else f'{ms:.1f}'} | {ref_ms:.1f} | "
              f"{'yes' if ok else 'NO'} |")
        if dtype == "float32" and not ok:
            failed += 1
    print(f"\n{len(rows) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
