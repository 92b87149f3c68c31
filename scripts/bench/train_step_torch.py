#!/usr/bin/env python3
"""The ZeTT training step of `zett-train train` (core/train/hypernet_train.cc), written in PyTorch.

The same step, shapes and call as ours, for the throughput comparison of issue 5
(docs/training.md, "Training step vs PyTorch"):

  hypernet forward over the sampled vocabulary [V', L] (V' = k + the original's special tokens,
  appended; fp32) -> predicted E_in, E_out [V', d], special tokens keep the original rows
  -> frozen bf16 Llama backbone (transformers LlamaForCausalLM.from_pretrained(base)) fed with
  inputs_embeds = E_in[ids], LM head = E_out padded to a multiple of 128 (padded rows get
  logit -1e4) -> causal cross-entropy over the labels + 0.5 x auxiliary loss (rows whose
  decomposition is one original id: ||e_hat - e||^2 / count / mean ||e||, in and out averaged)
  -> backward into the hypernet -> global grad-norm clip 0.1 -> AdamW (betas 0.9/0.95, eps 1e-8,
  weight decay 0.01 on >= 2-d weights only, lr warm-up) -> loss.item() (one sync per step, as
  our training loop does).

The hypernetwork is the from-spec PyTorch reference of scripts/parity/hypernet.py (imported:
embed_decomposition -> encode_spec -> heads), with the trainable parameters as leaf tensors; the
rescalers (in_scaler, scaler, out_scaler) are fixed, as in ours. Weights: the bundled
checkpoint's (models/hypernet/model.safetensors) where names and shapes match, random otherwise.

Inputs are synthetic with the real shapes: surface forms drawn like the parity oracle's (1..7
ids, short ones more often, original and fallback ids), the special rows [id, pad...] appended,
token ids uniform over the sampled pieces with BOS first, every label valid (B x T tokens per
step). A few batches are made on the CPU up front and cycled; each step copies its batch to the
device, as ours does. Warm-up steps are excluded; each timed step ends with loss.item(), so a
step's time is the device time of that step (ours: the "gpu ... ms/step" of the progress line).

Prints one line per implementation, `RESULT {json}`, and a short table. Needs torch and
transformers. --compile adds a torch.compile variant of the loss (reported separately; eager is
the reference).

  python3 scripts/bench/train_step_torch.py --device cuda            # eager
  python3 scripts/bench/train_step_torch.py --device cuda --compile  # + torch.compile
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts", "parity"))
import hypernet as hn  # noqa: E402  (the from-spec reference)
import hypernet_safetensors as st  # noqa: E402

MASKED_LOGIT = -1e4   # padded vocabulary rows (hypernet_train.cc kMaskedLogit)
VOCAB_MULTIPLE = 128  # ZettBatchOptions::vocab_multiple
RESCALERS = ("in_scaler.", "scaler.", "out_scaler.")


# ----------------------------------------------------------------------------- setup

def hypernet_config(args, base_config):
    """The config zett-train builds from its defaults (hypernet_train.cc Train), or the bundled
    checkpoint's config.json when given; nulls filled as ours fills them (H = d, I = 2H,
    heads = H / 64)."""
    d = base_config["hidden_size"]
    c = {}
    if args.hypernet_config and os.path.exists(args.hypernet_config):
        with open(args.hypernet_config) as f:
            c = json.load(f)
    c.setdefault("hn_surface_maxlen", 7)
    c.setdefault("hn_n_layers", 3)
    c["n_embd"] = c.get("n_embd") or d
    c["hn_hidden_size"] = c.get("hn_hidden_size") or c["n_embd"]
    c["hn_intermediate_size"] = c.get("hn_intermediate_size") or 2 * c["hn_hidden_size"]
    c["hn_num_attention_heads"] = (c.get("hn_num_attention_heads")
                                   or max(1, c["hn_hidden_size"] // 64))
    c.setdefault("original_vocab_size", base_config["vocab_size"])
    c.setdefault("pad_token_id", base_config.get("pad_token_id") or base_config.get("eos_token_id", 2))
    c.setdefault("separate_out_embeddings", not base_config.get("tie_word_embeddings", False))
    c.setdefault("hn_n_extra_tokens", 0)
    c.setdefault("hn_residual", True)
    c.setdefault("hn_residual_alpha", 1.0)
    c.setdefault("hn_single_head", False)
    c.setdefault("hn_embed_lang_id", False)
    c.setdefault("n_langs", None)
    c["hn_predict_bias"] = False  # a Llama LM head has no bias (ours sets it so too)
    c["hn_rescale_embeddings"] = True
    c["hn_embed_using_source_embeddings"] = True
    for key in ("hn_n_layers", "hn_surface_maxlen"):
        override = getattr(args, key)
        if override:
            c[key] = override
    return c


def special_ids(base_dir, base_config):
    """The original's special tokens (ids), in id order, as ZettBatchBuilder appends them."""
    path = os.path.join(base_dir, "tokenizer.json")
    try:
        with open(path) as f:
            added = json.load(f).get("added_tokens", [])
        ids = sorted(a["id"] for a in added if a.get("special"))
        if ids:
            return ids
    except (OSError, ValueError, KeyError):
        pass
    return sorted({0, base_config.get("bos_token_id", 1), base_config.get("eos_token_id", 2)})


def hypernet_parameters(c, weights_path, device, gen):
    """Name -> tensor; trainable ones are leaves with requires_grad."""
    p = hn.random_parameters(c, gen)
    loaded = 0
    if weights_path and os.path.exists(weights_path):
        try:
            tensors, _ = st.load(weights_path)
            for name, t in tensors.items():
                if name in p and tuple(p[name].shape) == tuple(t.shape):
                    p[name] = t.float()
                    loaded += 1
        except Exception as e:  # noqa: BLE001 - random weights time the same
            print(f"note: {weights_path}: {e}; random weights", file=sys.stderr)
    params, trainable = {}, []
    for name, t in p.items():
        if name == "model.embeddings.word_embeddings.weight":
            continue  # never read (ours does not hold it either)
        t = t.to(device=device, dtype=torch.float32).contiguous()
        if not name.startswith(RESCALERS):
            t.requires_grad_(True)
            trainable.append((name, t))
        params[name] = t
    return params, trainable, loaded


def load_backbone(base_dir, device):
    import transformers
    kwargs = {"attn_implementation": "sdpa"}
    try:
        model = transformers.LlamaForCausalLM.from_pretrained(base_dir, dtype=torch.bfloat16,
                                                              **kwargs)
    except TypeError:  # transformers < 4.56 names it torch_dtype
        model = transformers.LlamaForCausalLM.from_pretrained(base_dir, torch_dtype=torch.bfloat16,
                                                              **kwargs)
    model.to(device).eval()
    model.requires_grad_(False)
    return model, transformers.__version__


def synthetic_batch(c, k, specials, batch_size, seq_len, gen):
    """CPU tensors of one step (the shapes ZettBatchBuilder::Build gives)."""
    L = c["hn_surface_maxlen"]
    pad = c["pad_token_id"]
    pieces = hn.surface_forms(c, k, gen).long()  # [k, L]
    special_rows = torch.full((len(specials), L), pad, dtype=torch.long)
    special_rows[:, 0] = torch.tensor(specials)
    sf = torch.cat([pieces, special_rows], 0)  # [V', L]
    v = sf.shape[0]
    # Aux rows: pieces decomposed to one original id.
    single = (pieces[:, 0] != pad) & (pieces[:, 0] < c["original_vocab_size"])
    if L > 1:
        single &= pieces[:, 1] == pad
    aux_mask = torch.zeros(v)
    aux_mask[:k] = single.float()
    aux_source = torch.where(torch.arange(v) < k, sf[:, 0], torch.zeros_like(sf[:, 0]))
    aux_source = aux_source.clamp(max=c["original_vocab_size"] - 1)
    bos_target = k + specials.index(1) if 1 in specials else k
    row = torch.randint(0, k, (batch_size, seq_len + 1), generator=gen)
    row[:, 0] = bos_target
    return {
        "surface_forms": sf,
        "input_ids": row[:, :-1].contiguous(),
        "attention_mask": torch.ones(batch_size, seq_len, dtype=torch.long),
        "labels": row[:, 1:].contiguous(),
        "aux_mask": aux_mask,
        "aux_source": aux_source,
        "special_target": torch.arange(k, v),
        "special_source": torch.tensor(specials),
    }


# ----------------------------------------------------------------------------- the step

def make_loss_fn(c, params, backbone, source, aux_weight, hypernet_bf16):
    d = c["n_embd"]
    device_type = source.device.type

    def aux_loss(pred, original, mask, count):
        # Shape-static form of ours (masked rows instead of an index_select of the aux rows).
        squared = ((pred - original) ** 2).sum(1) * mask
        mean_norm = (original.norm(dim=1) * mask).sum() / count
        return squared.sum() / (count + 1e-8) / mean_norm

    def loss_fn(sf, input_ids, attention_mask, labels, aux_mask, aux_source, special_target,
                special_source):
        # Mixed precision as ours with --hypernet_dtype=bfloat16: the fp32 parameters are cast
        # for the hypernet's matmuls (autocast), its outputs (and the residual) end in fp32.
        with torch.autocast(device_type=device_type, dtype=torch.bfloat16, enabled=hypernet_bf16):
            x = hn.embed_decomposition(params, c, sf, source)
            pooled = hn.encode_spec(params, c, sf, x, None)
            out = hn.heads(params, c, sf, pooled, source)
        e_in, e_out = out["embeddings_in"].float(), out["embeddings_out"]
        if e_out is not None:
            e_out = e_out.float()
        originals = source[special_source]
        e_in = e_in.index_copy(0, special_target, originals[:, :d])
        if e_out is not None:
            e_out = e_out.index_copy(0, special_target, originals[:, d:2 * d])
        count = aux_mask.sum().clamp(min=1)
        aux_rows = source[aux_source]
        aux = aux_loss(e_in, aux_rows[:, :d], aux_mask, count)
        if e_out is not None:
            aux = (aux + aux_loss(e_out, aux_rows[:, d:2 * d], aux_mask, count)) / 2
        v = e_in.shape[0]
        padded_rows = (v + VOCAB_MULTIPLE - 1) // VOCAB_MULTIPLE * VOCAB_MULTIPLE

        def padded(e):
            e = e.to(torch.bfloat16)
            return torch.cat([e, e.new_zeros(padded_rows - v, e.shape[1])], 0)

        table_in = padded(e_in)
        head = padded(e_out if e_out is not None else e_in)
        bias = torch.zeros(padded_rows, dtype=torch.bfloat16, device=head.device)
        bias[v:] = MASKED_LOGIT
        hidden = backbone.model(inputs_embeds=F.embedding(input_ids, table_in),
                                attention_mask=attention_mask).last_hidden_state
        logits = F.linear(hidden, head, bias).float()
        lm = F.cross_entropy(logits.reshape(-1, padded_rows), labels.reshape(-1),
                             ignore_index=-100)
        return lm + aux_weight * aux, lm, aux

    return loss_fn


def make_optimizer(trainable, args, device):
    decay = [t for _, t in trainable if t.dim() >= 2]
    no_decay = [t for _, t in trainable if t.dim() < 2]
    groups = [{"params": decay, "weight_decay": args.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    kwargs = {"lr": args.lr, "betas": (0.9, args.beta2), "eps": 1e-8}
    if args.fused and device.type == "cuda":
        kwargs["fused"] = True
    return torch.optim.AdamW(groups, **kwargs)


def run(name, loss_fn, trainable, batches, args, device):
    """Warm-up, then timed steps; returns the RESULT record."""
    optimizer = make_optimizer(trainable, args, device)
    tensors = [t for _, t in trainable]
    keys = ("surface_forms", "input_ids", "attention_mask", "labels", "aux_mask", "aux_source",
            "special_target", "special_source")

    def step(i, total):
        b = batches[i % len(batches)]
        inputs = [b[key].to(device) for key in keys]
        for group in optimizer.param_groups:  # linear warm-up, as ours (the value is immaterial)
            group["lr"] = args.lr * min(1.0, (i + 1) / 200)
        loss, lm, aux = loss_fn(*inputs)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(tensors, args.grad_clip)
        optimizer.step()
        value = loss.item()  # synchronises the device, as ours does every step
        if not math.isfinite(value):
            raise RuntimeError(f"{name}: loss is {value} at step {i}")
        return value

    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    start = time.perf_counter()
    first_loss = None
    for i in range(args.warmup):
        value = step(i, args.warmup)
        first_loss = value if first_loss is None else first_loss
    sync()
    warmup_s = time.perf_counter() - start
    times = []
    sync()
    wall_start = time.perf_counter()
    last = None
    for i in range(args.warmup, args.warmup + args.steps):
        t0 = time.perf_counter()
        last = step(i, args.steps)
        times.append(time.perf_counter() - t0)
    sync()
    wall = time.perf_counter() - wall_start
    tokens = args.batch_size * args.seq_len
    ms = 1e3 * wall / args.steps
    record = {
        "impl": name,
        "ms_per_step": ms,
        "ms_per_step_median": 1e3 * statistics.median(times),
        "tokens_per_step": tokens,
        "tokens_per_s": tokens / (ms / 1e3),
        "steps": args.steps,
        "warmup_steps": args.warmup,
        "warmup_s": warmup_s,
        "loss_first": first_loss,
        "loss_last": last,
        "peak_gpu_mib": (torch.cuda.max_memory_allocated() / 2**20
                         if device.type == "cuda" else None),
    }
    record["hypernet_dtype"] = args.hypernet_dtype
    print("RESULT " + json.dumps(record), flush=True)
    if args.trace:  # a few more steps under the profiler, for scripts/bench/kernel_summary.py
        path = f"{args.trace}-{name}.json"
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU,
                                                torch.profiler.ProfilerActivity.CUDA]) as prof:
            for i in range(args.trace_steps):
                step(args.warmup + args.steps + i, args.trace_steps)
            sync()
        prof.export_chrome_trace(path)
        print(f"{name}: trace of {args.trace_steps} steps in {path}", flush=True)
    return record


# ----------------------------------------------------------------------------- main

def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default=os.path.join(ROOT, "models", "base-lm"))
    parser.add_argument("--hypernet-config",
                        default=os.path.join(ROOT, "models", "hypernet", "config.json"),
                        help="'' = zett-train's defaults only")
    parser.add_argument("--hypernet-weights",
                        default=os.path.join(ROOT, "models", "hypernet", "model.safetensors"))
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seq-len", type=int, default=256)
    parser.add_argument("--sample-vocab-size", type=int, default=8192, help="k")
    parser.add_argument("--hn_n_layers", type=int, default=0, help="override (0: config)")
    parser.add_argument("--hn_surface_maxlen", type=int, default=0, help="override (0: config)")
    parser.add_argument("--steps", type=int, default=50, help="timed steps")
    parser.add_argument("--warmup", type=int, default=10, help="untimed steps first")
    parser.add_argument("--batches", type=int, default=4, help="synthetic batches, cycled")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--beta2", type=float, default=0.95)
    parser.add_argument("--weight-decay", type=float, default=0.01)
    parser.add_argument("--grad-clip", type=float, default=0.1)
    parser.add_argument("--aux-weight", type=float, default=0.5)
    parser.add_argument("--hypernet-dtype", default="float32", choices=("float32", "bfloat16"),
                        help="the hypernet's compute dtype (bfloat16: autocast; masters fp32)")
    parser.add_argument("--fused", action="store_true", help="AdamW(fused=True) (default: foreach)")
    parser.add_argument("--compile", action="store_true",
                        help="also time a torch.compile variant of the loss")
    parser.add_argument("--compile-warmup", type=int, default=15)
    parser.add_argument("--no-eager", action="store_true", help="skip the eager run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--trace", default="", help="PREFIX: write PREFIX-<impl>.json traces")
    parser.add_argument("--trace-steps", type=int, default=10)
    args = parser.parse_args()

    device = torch.device(args.device)
    # As ours: zett-train allows TF32 for the fp32 hypernetwork's matmuls on CUDA.
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)

    with open(os.path.join(args.base, "config.json")) as f:
        base_config = json.load(f)
    c = hypernet_config(args, base_config)
    specials = special_ids(args.base, base_config)
    backbone, tf_version = load_backbone(args.base, device)
    d = c["n_embd"]
    # The source table [E_in | E_out] in fp32, as ours builds it from the backbone.
    e_in = backbone.get_input_embeddings().weight.detach().float()
    if c["separate_out_embeddings"]:
        source = torch.cat([e_in, backbone.get_output_embeddings().weight.detach().float()], 1)
    else:
        source = e_in
    source = source.to(device).contiguous()
    if source.shape[1] != (2 * d if c["separate_out_embeddings"] else d):
        raise SystemExit(f"hypernet n_embd {d} does not fit the base's embeddings {tuple(source.shape)}")
    params, trainable, loaded = hypernet_parameters(c, args.hypernet_weights, device, gen)
    batches = [synthetic_batch(c, args.sample_vocab_size, specials, args.batch_size, args.seq_len,
                               gen) for _ in range(args.batches)]
    v = batches[0]["surface_forms"].shape[0]
    n_params = sum(t.numel() for _, t in trainable)
    print(f"torch {torch.__version__}, transformers {tf_version}, device "
          f"{torch.cuda.get_device_name(0) if device.type == 'cuda' else 'cpu'}; hypernet H "
          f"{c['hn_hidden_size']} I {c['hn_intermediate_size']} {c['hn_n_layers']} layers "
          f"{c['hn_num_attention_heads']} heads L {c['hn_surface_maxlen']} "
          f"{'residual' if c['hn_residual'] else 'plain'}, {n_params} trainable parameters "
          f"({loaded} tensors from the checkpoint); V' = {v} (k {args.sample_vocab_size} + "
          f"{len(specials)} specials), B {args.batch_size} x T {args.seq_len}; "
          f"{args.warmup} warm-up + {args.steps} timed steps", flush=True)

    loss_fn = make_loss_fn(c, params, backbone, source, args.aux_weight,
                           args.hypernet_dtype == "bfloat16")
    records = []
    if not args.no_eager:
        records.append(run("pytorch-eager", loss_fn, trainable, batches, args, device))
    if args.compile:
        # Fresh optimizer state; the parameters go on from where eager left them (timing only).
        try:
            compiled = torch.compile(loss_fn)
            compile_args = argparse.Namespace(**vars(args))
            compile_args.warmup = args.compile_warmup
            records.append(run("pytorch-compile", compiled, trainable, batches, compile_args,
                               device))
        except Exception as e:  # noqa: BLE001 - eager is the reference; report and go on
            print(f"pytorch-compile: failed: {type(e).__name__}: {str(e)[:400]}", flush=True)
            print("RESULT " + json.dumps({"impl": "pytorch-compile", "error": str(e)[:200]}))

    print("\n| implementation | ms/step | median ms | tokens/s | warm-up s |")
    print("|---|---|---|---|---|")
    for r in records:
        print(f"| {r['impl']} | {r['ms_per_step']:.1f} | {r['ms_per_step_median']:.1f} | "
              f"{r['tokens_per_s']:.0f} | {r['warmup_s']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
