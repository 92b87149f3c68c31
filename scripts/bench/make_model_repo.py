#!/usr/bin/env python3
"""Writes a zett-server model repository with RANDOM weights at a chosen shape (default: the
ZeTT Mistral-7B hypernet, d = H = 4096, I = 8192, 32 heads, 3 layers, L = 7), for benchmarks.

  <repo>/<model>/<version>/base/config.json          Mistral-7B config (untied embeddings)
  <repo>/<model>/<version>/base/model.safetensors    model.embed_tokens.weight, lm_head.weight
  <repo>/<model>/<version>/base/tokenizer.json       the original tokenizer
  <repo>/<model>/<version>/hypernet/config.json      ZettHypernetConfig
  <repo>/<model>/<version>/hypernet/model.safetensors  every parameter, PyTorch-port names
  <repo>/<model>/<version>/hypernet/tokenizer.json   the original tokenizer (decomposition)

The base holds only what the server reads (core/transfer/source_embeddings.cc: config.json's
architectures + tie_word_embeddings and the two embedding matrices), not the 7B transformer
layers. Run `zett-manifest <repo>/<model>/<version>` afterwards (mistral_shape.sh does).

--forward-inputs also writes the input file of core/hypernet/hypernet_forward: surface_forms
int32 [rows, L] with every position a real id (no padding: the FLOP count is exact) and
source_embeddings = [E_in | E_out] bf16.

Needs only the standard library; numpy (if importable) makes the random numbers fast. Values
are N(0, std) rounded down to bf16 (truncation: these weights only have to be finite).
"""
import argparse
import json
import math
import os
import random
import shutil
import struct
import sys
import time

try:
    import numpy as np
except ImportError:  # pure Python: fine for tiny shapes only
    np = None


class Random:
    """Normal fp32 -> bf16 bytes, with numpy when there is one."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed) if np is not None else random.Random(seed)

    def normal_bf16(self, count, std):
        if np is not None:
            x = self.rng.standard_normal(count, dtype=np.float32)
            x *= np.float32(std)
            return (x.view(np.uint32) >> 16).astype("<u2").tobytes()  # = fp32_to_bf16
        else:
            gauss = self.rng.gauss
            data = struct.pack(f"<{count}f", *(gauss(0.0, std) for _ in range(count)))
        return fp32_to_bf16(data)


def fp32_to_bf16(data):
    """Little-endian fp32 bytes -> bf16 bytes (the high half of each value)."""
    out = bytearray(len(data) // 2)
    out[0::2] = data[2::4]
    out[1::2] = data[3::4]
    return bytes(out)


def const_bf16(count, value):
    return fp32_to_bf16(struct.pack("<f", value)) * count


class SafetensorsWriter:
    """Streams tensors into a .safetensors file: the header first (shapes are known), then the
    data in the same order."""

    SIZES = {"BF16": 2, "F32": 4, "I32": 4, "I64": 8}

    def __init__(self, path, specs, metadata=None):
        header, offset = {}, 0
        self.order = []
        for name, dtype, shape in specs:
            size = self.SIZES[dtype] * math.prod(shape)
            header[name] = {"dtype": dtype, "shape": list(shape),
                            "data_offsets": [offset, offset + size]}
            self.order.append((name, size))
            offset += size
        if metadata:
            header["__metadata__"] = metadata
        encoded = json.dumps(header, separators=(",", ":")).encode()
        encoded += b" " * (-len(encoded) % 8)
        self.file = open(path, "wb")
        self.file.write(struct.pack("<Q", len(encoded)))
        self.file.write(encoded)
        self.next = 0

    def write(self, name, data):
        expected_name, size = self.order[self.next]
        if name != expected_name or len(data) != size:
            raise ValueError(f"safetensors writer: got {name} ({len(data)} bytes), "
                             f"expected {expected_name} ({size} bytes)")
        self.file.write(data)
        self.next += 1

    def close(self):
        if self.next != len(self.order):
            raise ValueError("safetensors writer: not every tensor was written")
        self.file.close()


def hypernet_config(a, v_orig):
    return {
        "hn_model_name_or_path": "roberta-base", "hn_model_type": "roberta",
        "hn_surface_maxlen": a.maxlen, "hn_n_layers": a.layers, "n_embd": a.d,
        "hn_hidden_size": a.hidden, "hn_intermediate_size": a.intermediate,
        "hn_num_attention_heads": a.heads, "hn_rescale_embeddings": True,
        "hn_embed_using_source_embeddings": True, "hn_single_head": False,
        "hn_predict_bias": True, "hn_embed_lang_id": False, "n_langs": None,
        "hn_embed_target_priors": False, "hn_add_inter_token_attention": False,
        "hn_concat_last_hidden_state": False, "original_vocab_size": v_orig,
        "pad_token_id": a.pad_id, "separate_out_embeddings": True,
        "hn_n_extra_tokens": a.extra_tokens, "hn_residual": False, "hn_residual_alpha": 1.0,
    }


def hypernet_parameters(a, v_orig):
    """(name, shape, init) in the PyTorch port's names (core/hypernet/hypernet.cc
    ListParameters): init is "normal", "zeros" or "ones"."""
    d, h, i, n_in = a.d, a.hidden, a.intermediate, 2 * a.d
    p = []

    def linear(name, fan_in, fan_out):
        p.append((name + ".weight", [fan_out, fan_in], "normal"))
        p.append((name + ".bias", [fan_out], "zeros"))

    def layer_norm(name, dim):
        p.append((name + ".weight", [dim], "ones"))
        p.append((name + ".bias", [dim], "zeros"))

    def block(name):
        linear(name + ".dense1", h, i)
        linear(name + ".dense2", i, h)
        layer_norm(name + ".ln", h)

    p.append(("model.embeddings.position_embeddings.weight", [514, h], "normal"))
    p.append(("model.embeddings.token_type_embeddings.weight", [1, h], "normal"))
    layer_norm("model.embeddings.LayerNorm", h)
    for l in range(a.layers):
        q = f"model.encoder.layer.{l}"
        for m in ("attention.self.query", "attention.self.key", "attention.self.value",
                  "attention.output.dense"):
            linear(f"{q}.{m}", h, h)
        layer_norm(f"{q}.attention.output.LayerNorm", h)
        linear(f"{q}.intermediate.dense", h, i)
        linear(f"{q}.output.dense", i, h)
        layer_norm(f"{q}.output.LayerNorm", h)
    p.append(("fallback_embeddings.weight", [max(a.extra_tokens, 1), n_in], "normal"))
    linear("input_projection.0", n_in, h)
    block("input_projection.1")
    block("output_projection.0")
    linear("output_projection.1", h, d)
    block("output_projection_out.0")
    linear("output_projection_out.1", h, d)
    p.append(("in_scaler.w", [1, n_in], "ones"))
    p.append(("in_scaler.b", [1, n_in], "zeros"))
    for s in ("scaler", "out_scaler"):
        p.append((f"{s}.w", [1, d], "ones"))
        p.append((f"{s}.b", [1, d], "zeros"))
    linear("bias_projection", h, 1)
    return p


def mistral_base_config(a, v_orig):
    """Mistral-7B-v0.1's config.json with this benchmark's d and vocabulary."""
    return {
        "architectures": ["MistralForCausalLM"], "model_type": "mistral",
        "hidden_size": a.d, "intermediate_size": 14336, "num_hidden_layers": 32,
        "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": a.d // 32,
        "hidden_act": "silu", "max_position_embeddings": 32768, "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0, "sliding_window": 4096, "tie_word_embeddings": False,
        "vocab_size": v_orig, "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "bfloat16",
        "zett_benchmark_note": "random embeddings only; the transformer layers are not written",
    }


def original_vocab_size(tokenizer_path):
    with open(tokenizer_path, encoding="utf-8") as f:
        tok = json.load(f)
    ids = list(tok["model"]["vocab"].values()) if isinstance(tok["model"]["vocab"], dict) \
        else list(range(len(tok["model"]["vocab"])))
    ids += [t["id"] for t in tok.get("added_tokens", [])]
    return max(ids) + 1


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repo", required=True)
    ap.add_argument("--model", default="mistral-shape")
    ap.add_argument("--version", type=int, default=1)
    ap.add_argument("--original-tokenizer", required=True, help="tokenizer.json (e.g. Llama-2)")
    ap.add_argument("--d", type=int, default=4096, help="base embedding width")
    ap.add_argument("--hidden", type=int, default=0, help="H (0: d)")
    ap.add_argument("--intermediate", type=int, default=0, help="I (0: 2H)")
    ap.add_argument("--heads", type=int, default=0, help="attention heads (0: H/64)")
    ap.add_argument("--layers", type=int, default=3)
    ap.add_argument("--maxlen", type=int, default=7)
    ap.add_argument("--pad-id", type=int, default=2, help="Mistral/Llama-2 </s>")
    ap.add_argument("--extra-tokens", type=int, default=1024,
                    help="fallback rows; >= the ids the byte-level conversion adds (ZeTT: 522)")
    ap.add_argument("--std", type=float, default=0.02)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--forward-inputs", help="also write hypernet_forward's inputs here")
    ap.add_argument("--forward-rows", type=int, default=32768)
    a = ap.parse_args()
    a.hidden = a.hidden or a.d
    a.intermediate = a.intermediate or 2 * a.hidden
    a.heads = a.heads or max(1, a.hidden // 64)
    if a.hidden % a.heads:
        sys.exit(f"make_model_repo: H={a.hidden} is not divisible by heads={a.heads}")

    start = time.time()
    v_orig = original_vocab_size(a.original_tokenizer)
    version_dir = os.path.join(a.repo, a.model, str(a.version))
    base_dir, hn_dir = os.path.join(version_dir, "base"), os.path.join(version_dir, "hypernet")
    os.makedirs(base_dir, exist_ok=True)
    os.makedirs(hn_dir, exist_ok=True)
    stale = os.path.join(version_dir, "manifest.json")
    if os.path.exists(stale):
        os.remove(stale)
    rng = Random(a.seed)

    with open(os.path.join(base_dir, "config.json"), "w") as f:
        json.dump(mistral_base_config(a, v_orig), f, indent=2)
    for folder in (base_dir, hn_dir):
        shutil.copyfile(a.original_tokenizer, os.path.join(folder, "tokenizer.json"))
    with open(os.path.join(hn_dir, "config.json"), "w") as f:
        json.dump(hypernet_config(a, v_orig), f, indent=2)

    # Base embeddings, kept (bf16 bytes) for the forward inputs.
    e_in = rng.normal_bf16(v_orig * a.d, a.std)
    e_out = rng.normal_bf16(v_orig * a.d, a.std)
    w = SafetensorsWriter(os.path.join(base_dir, "model.safetensors"),
                          [("lm_head.weight", "BF16", [v_orig, a.d]),
                           ("model.embed_tokens.weight", "BF16", [v_orig, a.d])],
                          {"format": "pt"})
    w.write("lm_head.weight", e_out)
    w.write("model.embed_tokens.weight", e_in)
    w.close()

    params = hypernet_parameters(a, v_orig)
    w = SafetensorsWriter(os.path.join(hn_dir, "model.safetensors"),
                          [(n, "BF16", s) for n, s, _ in params], {"format": "pt"})
    n_params = 0
    for name, shape, init in params:
        count = math.prod(shape)
        n_params += count
        if init == "normal":
            w.write(name, rng.normal_bf16(count, a.std))
        else:
            w.write(name, const_bf16(count, 1.0 if init == "ones" else 0.0))
    w.close()

    if a.forward_inputs:
        row = 2 * a.d
        if np is not None:
            stacked = np.concatenate(
                [np.frombuffer(e_in, np.uint16).reshape(v_orig, a.d),
                 np.frombuffer(e_out, np.uint16).reshape(v_orig, a.d)], axis=1).tobytes()
            ids = np.random.default_rng(a.seed + 1).integers(
                0, v_orig - 1, size=(a.forward_rows, a.maxlen), dtype=np.int32)
            ids = np.where(ids >= a.pad_id, ids + 1, ids).astype("<i4").tobytes()
        else:
            half = a.d * 2  # bytes of one bf16 row of d values
            stacked = b"".join(e_in[r * half:(r + 1) * half] + e_out[r * half:(r + 1) * half]
                               for r in range(v_orig))
            r = random.Random(a.seed + 1)
            values = [r.randrange(v_orig - 1) for _ in range(a.forward_rows * a.maxlen)]
            ids = struct.pack(f"<{len(values)}i", *(v + (v >= a.pad_id) for v in values))
        w = SafetensorsWriter(a.forward_inputs,
                              [("source_embeddings", "BF16", [v_orig, row]),
                               ("surface_forms", "I32", [a.forward_rows, a.maxlen])])
        w.write("source_embeddings", stacked)
        w.write("surface_forms", ids)
        w.close()

    print(f"make_model_repo: {version_dir}: d={a.d} H={a.hidden} I={a.intermediate} "
          f"heads={a.heads} layers={a.layers} L={a.maxlen} V_orig={v_orig} "
          f"extra={a.extra_tokens} hypernet params={n_params / 1e6:.1f}M (bf16), "
          f"{'numpy' if np is not None else 'pure Python'}, {time.time() - start:.1f} s")


if __name__ == "__main__":
    main()
