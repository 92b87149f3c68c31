#!/usr/bin/env python3
"""Target tokenizers for the transfer benchmark, from real tokenizer.json files.

  --gpt2 PATH --out32k PATH   GPT-2's byte-level BPE cut to its first 32,768 tokens: ids below
                              32,767 (GPT-2 numbers tokens in merge order, so this is GPT-2's BPE
                              trained to 32,511 merges) + <|endoftext|> as id 32,767; a merge is
                              kept when both parts and the result stay in the vocabulary.
  --tokens-from PATH --tokens-out PATH --count 64
                              one token per line (byte-level surface forms, as `zett bench
                              --rpc predict_tokens` reads them): multi-character word tokens
                              taken evenly over the vocabulary of PATH.
Standard library only.
"""
import argparse
import json


def cut_bpe(path, out_path, size):
    with open(path, encoding="utf-8") as f:
        tok = json.load(f)
    model = tok["model"]
    if model.get("type") != "BPE":
        raise SystemExit(f"make_targets: {path} is not a BPE tokenizer")
    specials = [t for t in tok.get("added_tokens", []) if t.get("special")]
    keep = size - len(specials)
    vocab = {t: i for t, i in model["vocab"].items() if i < keep}
    if len(vocab) != keep:
        raise SystemExit(f"make_targets: {path}: ids below {keep} are not contiguous")
    for n, special in enumerate(specials):
        new_id = keep + n
        vocab.pop(special["content"], None)
        vocab[special["content"]] = new_id
        special["id"] = new_id
    merges = []
    for merge in model["merges"]:
        a, b = merge.split(" ", 1) if isinstance(merge, str) else merge
        if a in vocab and b in vocab and a + b in vocab:
            merges.append(merge)
    model["vocab"], model["merges"] = vocab, merges
    # Post-processors/decoders of GPT-2 hold no ids; a TemplateProcessing one would.
    if tok.get("post_processor") and tok["post_processor"].get("type") == "TemplateProcessing":
        raise SystemExit("make_targets: TemplateProcessing post-processor not handled")
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False)
    print(f"make_targets: {out_path}: {len(vocab)} tokens, {len(merges)} merges")


def token_list(path, out_path, count):
    with open(path, encoding="utf-8") as f:
        tok = json.load(f)
    vocab = tok["model"]["vocab"]
    tokens = sorted(vocab, key=vocab.get) if isinstance(vocab, dict) else [t[0] for t in vocab]
    special = {t["content"] for t in tok.get("added_tokens", [])}
    words = [t for t in tokens if sum(c not in "ĠĊĉ" for c in t) >= 3 and t not in special
             and "\n" not in t
             and "\r" not in t and t.strip() == t and len(t.encode("utf-8")) <= 64]
    if len(words) < count:
        raise SystemExit(f"make_targets: {path}: only {len(words)} usable tokens")
    step = len(words) // count
    chosen = [words[i * step] for i in range(count)]
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("\n".join(chosen) + "\n")
    print(f"make_targets: {out_path}: {count} tokens, e.g. {chosen[:4]}")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gpt2")
    ap.add_argument("--out32k")
    ap.add_argument("--size", type=int, default=32768)
    ap.add_argument("--tokens-from")
    ap.add_argument("--tokens-out")
    ap.add_argument("--count", type=int, default=64)
    a = ap.parse_args()
    if a.gpt2 and a.out32k:
        cut_bpe(a.gpt2, a.out32k, a.size)
    if a.tokens_from and a.tokens_out:
        token_list(a.tokens_from, a.tokens_out, a.count)


if __name__ == "__main__":
    main()
