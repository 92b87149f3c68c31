#!/usr/bin/env python3
"""Checks a `zett apply` output folder with Hugging Face transformers.

1. AutoTokenizer loads the folder and gives the same ids as our `zett tokenize` on the same
   lines (without and with special tokens).
2. AutoModelForCausalLM loads the folder; config ids agree with the tokenizer's special tokens;
   the embedding tables have the target vocabulary's size.
3. Its logits on the tokenized lines match our C++ forward (`zett-train logits`) on the same
   folder: max relative error over unmasked positions (fp32; bf16 reported).
4. A short greedy generation runs (printed, not judged).

Prints a table last; exit 1 when a check fails.

  apply_check.py --applied DIR --zett build/gpu/client/zett \
      --zett-train build/gpu/core/train/zett-train [--device cuda] [--text-file FILE]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

SAMPLES = [
    "The quick brown fox jumps over the lazy dog.",
    "Zero-shot tokenizer transfer swaps the tokenizer of a language model.",
    "In 2024, 3.5 million people visited the museum; tickets cost $12.50 each.",
    "def add(a, b):\n    return a + b",
    "Ein kleiner Satz auf Deutsch, mit Umlauten: äöü ß.",
    "Les élèves étudient la tokenisation à l'université.",
    "   leading spaces and trailing spaces   ",
    "Emoji and symbols: \u2603 \u2764 \u00a9 \u2014 done",
]


def read_lines(args):
    if not args.text_file:
        return SAMPLES
    lines = []
    with open(args.text_file, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.strip():
                lines.append(line[:2000])
            if len(lines) >= args.max_lines:
                break
    return lines or SAMPLES


def zett_tokenize(zett, tokenizer_json, lines, special, work):
    """Our ids per line. zett tokenize reads one text per line, so lines hold no newlines."""
    path = os.path.join(work, "lines.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in lines))
    cmd = [zett, "tokenize", "--tokenizer", tokenizer_json, "--input", path]
    if special:
        cmd.append("--add-special-tokens")
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError("%s failed:\n%s%s" % (" ".join(cmd), result.stdout, result.stderr))
    return [json.loads(row) for row in result.stdout.splitlines()]


def run_ours(zett_train, model_dir, ids, mask, device, dtype, work):
    """`zett-train logits` on a folder: scripts/parity/backbones.py's runner (imported here, as it
    imports torch and transformers)."""
    from backbones import run_ours as run_zett_train_logits
    return run_zett_train_logits(zett_train, model_dir, ids, mask, device, dtype, work)


def relative_error(ours, ref, mask):
    keep = mask.bool()
    return ((ours[keep] - ref[keep]).abs().max() / ref[keep].abs().max()).item()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--applied", required=True, help="the `zett apply` output folder")
    parser.add_argument("--zett", required=True, help="path to the zett binary")
    parser.add_argument("--zett-train", required=True, help="path to the zett-train binary")
    parser.add_argument("--device", default=None, help="cuda or cpu (default: cuda if present)")
    parser.add_argument("--text-file", help="lines to tokenize (default: built-in samples)")
    parser.add_argument("--max-lines", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=128, help="truncate rows for logits")
    parser.add_argument("--tolerance", type=float, default=1e-4, help="fp32 max relative error")
    parser.add_argument("--summary-json", help="also write the results here")
    args = parser.parse_args()

    rows = []  # (check, result, numbers)

    def record(check, ok, numbers):
        rows.append((check, "ok" if ok else ("FAIL" if ok is False else "info"), numbers))

    try:
        import torch
        import transformers
    except Exception as e:  # noqa: BLE001 - report instead of a traceback
        record("import torch/transformers", False, str(e))
        return finish(rows, args)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    print("transformers %s, torch %s, device %s, folder %s" % (
        transformers.__version__, torch.__version__, device, args.applied))
    work = tempfile.mkdtemp(prefix="zett-apply-check-")
    lines = [line.replace("\n", " ") for line in read_lines(args)]

    # 1. Tokenizer.
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(args.applied)
        record("AutoTokenizer loads", True, "%s, len %d" % (type(tokenizer).__name__,
                                                             len(tokenizer)))
    except Exception as e:  # noqa: BLE001
        record("AutoTokenizer loads", False, repr(e)[:200])
        return finish(rows, args)
    tokenizer_json = os.path.join(args.applied, "tokenizer.json")
    hf_ids = None
    for special in (False, True):
        try:
            ours = zett_tokenize(args.zett, tokenizer_json, lines, special, work)
            theirs = [tokenizer(line, add_special_tokens=special)["input_ids"] for line in lines]
            bad = [i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b]
            if len(ours) != len(theirs):
                bad.append(-1)
            detail = "%d/%d lines equal, %d tokens" % (len(lines) - len(bad), len(lines),
                                                      sum(len(t) for t in theirs))
            if bad and bad[0] >= 0:
                i = bad[0]
                detail += "; line %d: ours %s vs HF %s" % (i, ours[i][:12], theirs[i][:12])
            record("ids == zett tokenize%s" % (" (special)" if special else ""), not bad, detail)
            if not special:
                hf_ids = theirs
        except Exception as e:  # noqa: BLE001
            record("ids == zett tokenize%s" % (" (special)" if special else ""), False,
                   repr(e)[:200])

    # 2. Model and config.
    try:
        model = transformers.AutoModelForCausalLM.from_pretrained(
            args.applied, torch_dtype=torch.float32).eval()
    except Exception as e:  # noqa: BLE001
        record("AutoModelForCausalLM loads", False, repr(e)[:200])
        return finish(rows, args)
    config = model.config
    vocab = model.get_input_embeddings().weight.shape[0]
    record("AutoModelForCausalLM loads", True, "%s, vocab %d, d %d, tied %s" % (
        config.architectures[0] if config.architectures else "?", vocab, config.hidden_size,
        getattr(config, "tie_word_embeddings", None)))
    ok = vocab == config.vocab_size == len(tokenizer) and \
        model.get_output_embeddings().weight.shape[0] == vocab
    record("vocab sizes agree", ok, "config %d, embeddings %d, lm_head %d, tokenizer %d" % (
        config.vocab_size, vocab, model.get_output_embeddings().weight.shape[0], len(tokenizer)))
    mismatched = []
    for role in ("bos", "eos", "pad"):
        from_config = getattr(config, role + "_token_id", None)
        from_tokenizer = getattr(tokenizer, role + "_token_id", None)
        if from_config != from_tokenizer:
            mismatched.append("%s config %s vs tokenizer %s" % (role, from_config,
                                                                  from_tokenizer))
    record("special ids agree", not mismatched, "; ".join(mismatched) or "bos %s eos %s pad %s" % (
        config.bos_token_id, config.eos_token_id, config.pad_token_id))

    # 3. Logits: transformers vs our C++ forward on the same folder.
    if hf_ids:
        rows_ids = [ids[:args.max_tokens] for ids in hf_ids if ids] or [[0]]
        width = max(len(ids) for ids in rows_ids)
        ids = torch.zeros(len(rows_ids), width, dtype=torch.long)
        mask = torch.zeros(len(rows_ids), width, dtype=torch.long)
        for i, row in enumerate(rows_ids):
            ids[i, :len(row)] = torch.tensor(row)
            mask[i, :len(row)] = 1
        try:
            with torch.no_grad():
                model32 = model.to(device)
                ref = model32(input_ids=ids.to(device),
                              attention_mask=mask.to(device)).logits.float().cpu()
            ours32 = run_ours(args.zett_train, args.applied, ids, mask, device, "float32", work)
            err32 = relative_error(ours32, ref, mask)
            record("logits fp32 vs C++ forward", err32 <= args.tolerance,
                   "max rel err %.2e (<= %.0e), %d positions" % (err32, args.tolerance,
                                                                 int(mask.sum())))
            ours16 = run_ours(args.zett_train, args.applied, ids, mask, device, "bfloat16", work)
            record("logits bf16 (ours) vs fp32", None, "max rel err %.2e" %
                   relative_error(ours16, ref, mask))
            nll = torch.nn.functional.cross_entropy(
                ref[:, :-1].reshape(-1, ref.shape[-1]), ids[:, 1:].reshape(-1),
                reduction="none").view(ids.shape[0], -1)
            keep = mask[:, 1:].bool()
            record("mean NLL on samples (transformers)", None, "%.3f nats/token over %d" % (
                nll[keep].mean().item(), int(keep.sum())))
        except Exception as e:  # noqa: BLE001
            record("logits fp32 vs C++ forward", False, repr(e)[:300])

    # 4. Generation, to see the model speak (not judged).
    try:
        prompt = tokenizer(lines[0][:40], return_tensors="pt")
        with torch.no_grad():
            out = model.generate(**{k: v.to(device) for k, v in prompt.items()},
                                 max_new_tokens=12, do_sample=False,
                                 pad_token_id=config.pad_token_id if config.pad_token_id
                                 is not None else (config.eos_token_id or 0))
        text = tokenizer.decode(out[0][prompt["input_ids"].shape[1]:])
        record("greedy generate 12 tokens", None, repr(text)[:80])
    except Exception as e:  # noqa: BLE001
        record("greedy generate 12 tokens", None, "failed: " + repr(e)[:120])
    return finish(rows, args)


def finish(rows, args):
    if args.summary_json:
        with open(args.summary_json, "w") as f:
            json.dump([{"check": c, "result": r, "numbers": n} for c, r, n in rows], f, indent=1)
    width = [max(len(str(r[k])) for r in rows + [("check", "result", "")]) for k in range(2)]
    print("\napply_check: %s" % args.applied)
    print("%s | %s | numbers" % ("check".ljust(width[0]), "result".ljust(width[1])))
    print("-" * (width[0] + width[1] + 20))
    for check, result, numbers in rows:
        print("%s | %s | %s" % (check.ljust(width[0]), result.ljust(width[1]), numbers))
    return 1 if any(r[1] == "FAIL" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
