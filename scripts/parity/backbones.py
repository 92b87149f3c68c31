#!/usr/bin/env python3
"""Parity oracle: our LibTorch backbones against Hugging Face transformers.

For each architecture, builds a small random model with transformers, save_pretrained()s it,
runs `zett-train logits` (our C++) on the same ids, and prints the max relative error of the
logits (max |ours - theirs| / max |theirs|, over non-padding positions) as a table. Target:
<= 1e-4 in float32. Exits non-zero when an architecture misses its target.

This is a test oracle, not part of the product. Needs torch, transformers and safetensors.

  python3 scripts/parity/backbones.py --zett-train build/gpu/core/train/zett-train --device cuda
  python3 scripts/parity/backbones.py --zett-train build/model/core/train/zett-train --device cpu
  # also compare a trained checkpoint folder (e.g. the committed base LM):
  python3 scripts/parity/backbones.py ... --model-dir models/base-lm
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import torch
import transformers
from safetensors.torch import load_file

SEQ = 24
BATCH = 3


def small_configs():
    """(name, notes, config) for each architecture; every config exercises its particulars."""
    common = dict(vocab_size=512, hidden_size=64, intermediate_size=96, num_hidden_layers=3,
                  num_attention_heads=4, max_position_embeddings=128, initializer_range=0.1)
    yield ("llama", "GQA 4/2, untied", transformers.LlamaConfig(
        num_key_value_heads=2, rms_norm_eps=1e-6, rope_theta=10000.0, tie_word_embeddings=False,
        **common))
    yield ("llama", "tied, q/k/v/o bias, linear RoPE x2, theta 5e5", transformers.LlamaConfig(
        num_key_value_heads=4, rms_norm_eps=1e-5, rope_theta=500000.0, tie_word_embeddings=True,
        attention_bias=True, rope_scaling={"type": "linear", "factor": 2.0}, **common))
    yield ("mistral", "GQA 4/1, sliding window 8 < T", transformers.MistralConfig(
        num_key_value_heads=1, sliding_window=8, tie_word_embeddings=False, **common))
    yield ("qwen2", "GQA 4/2, q/k/v bias, tied", transformers.Qwen2Config(
        num_key_value_heads=2, tie_word_embeddings=True, use_sliding_window=False, **common))
    enc = dict(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=3,
               num_attention_heads=4, max_position_embeddings=64, type_vocab_size=1,
               layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0, eos_token_id=2,
               initializer_range=0.1)
    yield ("xlm-roberta", "MLM head, padding, pad-offset positions",
           transformers.XLMRobertaConfig(**enc))
    yield ("roberta", "MLM head, untied decoder", transformers.RobertaConfig(
        tie_word_embeddings=False, **enc))


def make_model(config):
    cls = (transformers.AutoModelForMaskedLM if config.model_type in ("xlm-roberta", "roberta")
           else transformers.AutoModelForCausalLM)
    try:  # the textbook attention path, in fp32
        model = cls.from_config(config, attn_implementation="eager")
    except TypeError:
        model = cls.from_config(config)
    # Non-zero biases and norms, so that every parameter matters.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1:
                p.add_(0.1 * torch.randn_like(p))
    return model.float().eval()


def make_ids(config, generator):
    """Random ids; the last row is right-padded, with attention_mask 0 on the padding."""
    low = 3
    ids = torch.randint(low, config.vocab_size, (BATCH, SEQ), generator=generator)
    mask = torch.ones_like(ids)
    pad = config.pad_token_id if config.pad_token_id is not None else 0
    mask[-1, SEQ - 5:] = 0
    ids[-1, SEQ - 5:] = pad
    if config.model_type in ("xlm-roberta", "roberta"):
        ids[:, 0] = config.bos_token_id
        ids[:-1, -1] = config.eos_token_id
    return ids, mask


def run_ours(zett_train, model_dir, ids, mask, device, dtype, work):
    ids_path = os.path.join(work, "ids.json")
    out_path = os.path.join(work, "ours-%s.safetensors" % dtype)
    with open(ids_path, "w") as f:
        json.dump({"input_ids": ids.tolist(), "attention_mask": mask.tolist()}, f)
    cmd = [zett_train, "logits", "--model", model_dir, "--ids", ids_path, "--out", out_path,
           "--device", device, "--dtype", dtype]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError("%s failed:\n%s%s" % (" ".join(cmd), result.stdout, result.stderr))
    return load_file(out_path)["logits"]


def theirs(model, ids, mask, device, dtype):
    model = model.to(device=device, dtype=dtype)
    with torch.no_grad():
        return model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.float().cpu()


def relative_error(ours, ref, mask):
    keep = mask.bool()
    return ((ours[keep] - ref[keep]).abs().max() / ref[keep].abs().max()).item()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--zett-train", required=True, help="path to the zett-train binary")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tolerance", type=float, default=1e-4, help="fp32 max relative error")
    parser.add_argument("--bf16-tolerance", type=float, default=5e-2,
                        help="bf16 (ours and theirs) vs the fp32 reference")
    parser.add_argument("--model-dir", action="append", default=[],
                        help="also compare an existing HF model folder (repeatable)")
    parser.add_argument("--keep", help="keep the generated checkpoints in this folder")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    print("transformers %s, torch %s, device %s" % (transformers.__version__, torch.__version__,
                                                   args.device))
    rows, failed = [], False
    work_root = args.keep or tempfile.mkdtemp(prefix="zett-parity-")
    cases = [(name, notes, make_model(config), None) for name, notes, config in small_configs()]
    for d in args.model_dir:
        model = transformers.AutoModelForCausalLM.from_pretrained(d, torch_dtype=torch.float32)
        cases.append((os.path.basename(os.path.normpath(d)), "checkpoint " + d, model.eval(), d))
    for i, (name, notes, model, existing_dir) in enumerate(cases):
        work = os.path.join(work_root, "%d-%s" % (i, name))
        os.makedirs(work, exist_ok=True)
        model_dir = existing_dir
        if model_dir is None:
            model_dir = os.path.join(work, "model")
            model.save_pretrained(model_dir, safe_serialization=True)
        ids, mask = make_ids(model.config, generator)
        ref = theirs(model, ids, mask, args.device, torch.float32)
        ours = run_ours(args.zett_train, model_dir, ids, mask, args.device, "float32", work)
        err32 = relative_error(ours, ref, mask)
        ours16 = run_ours(args.zett_train, model_dir, ids, mask, args.device, "bfloat16", work)
        ref16 = theirs(model, ids, mask, args.device, torch.bfloat16)
        err16_ours = relative_error(ours16, ref, mask)
        err16_theirs = relative_error(ref16, ref, mask)
        ok = err32 <= args.tolerance and err16_ours <= args.bf16_tolerance
        failed |= not ok
        rows.append((model.config.architectures[0] if model.config.architectures else name,
                     notes, err32, err16_ours, err16_theirs, "ok" if ok else "FAIL"))

    header = ("architecture", "config", "fp32 rel err", "bf16 ours", "bf16 transformers", "")
    widths = [max(len(str(r[k])) if isinstance(r[k], str) else 9 for r in rows + [header])
              for k in range(len(header))]
    fmt = lambda r: " | ".join(
        (("%.2e" % v) if isinstance(v, float) else str(v)).ljust(w) for v, w in zip(r, widths))
    print("\n" + fmt(header))
    print("-+-".join("-" * w for w in widths))
    for r in rows:
        print(fmt(r))
    print("\nfp32 target <= %.0e; bf16 columns: max rel err of bf16 logits vs the fp32 "
          "transformers logits (ours must be <= %.0e)" % (args.tolerance, args.bf16_tolerance))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
