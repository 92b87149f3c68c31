"""Converts a SentencePiece `.model` to Hugging Face `tokenizer.json` (+ transformers configs).

Data script (stdlib only). BPE models get the layout transformers' LlamaConverter writes for
Llama-2 / Mistral-7B-v0.1 (legacy=True): normalizer Prepend("▁") + Replace(" ", "▁"), no
pre-tokenizer, BPE with byte_fallback and fuse_unk, BOS template, Replace/ByteFallback/Fuse/Strip
decoder. Merges follow the semantics of transformers' SentencePieceExtractor: every split of a
vocabulary piece into two vocabulary pieces is a merge, ranked by the merged piece's score
(higher first), ties by the ids of the left then the right part. SentencePiece BPE applies the
merge whose result scores highest, so this ranking reproduces its segmentation.

Unigram models get a Unigram model (pieces with their log-probability scores, byte_fallback)
behind the same Prepend/Replace normalizer and decoder. (XLM-R/T5 files use a Metaspace
pre-tokenizer instead, which drops the dummy prefix of lines that begin with a space, and a
precompiled charsmap, which the identity normalization does not need.)

Usage: sp_to_hf.py MODEL OUT_DIR [--configs]   (--configs also writes tokenizer_config.json and
special_tokens_map.json for transformers' LlamaTokenizer(Fast))
"""

import argparse
import json
import os
import sys

import sp_model as spm

SPACE = "\u2581"


def _token(content):
    return {"content": content, "lstrip": False, "normalized": False, "rstrip": False,
            "single_word": False}


def _added_tokens(m):
    out = []
    for i, (piece, _, kind) in enumerate(m["pieces"]):
        if kind in (spm.UNKNOWN, spm.CONTROL):
            out.append(dict(id=i, special=True, **_token(piece)))
    return out


def bpe_merges(pieces):
    vocab = {p: i for i, (p, _, _) in enumerate(pieces)}
    mergeable = {p for p, _, k in pieces if k in (spm.NORMAL, spm.USER_DEFINED)}
    ranked = []
    for i, (piece, score, kind) in enumerate(pieces):
        if kind not in (spm.NORMAL, spm.USER_DEFINED) or len(piece) < 2:
            continue
        local = []
        for cut in range(1, len(piece)):
            left, right = piece[:cut], piece[cut:]
            if left in mergeable and right in mergeable:
                local.append((vocab[left], vocab[right], left, right))
        local.sort()
        ranked.extend((-score, i, n, l, r) for n, (_, _, l, r) in enumerate(local))
    ranked.sort()
    return ["%s %s" % (l, r) for _, _, _, l, r in ranked]


def bpe_tokenizer_json(m):
    normalizer, decoder = _spm_normalizer_and_decoder(m)
    pieces = m["pieces"]
    unk, bos = pieces[m["unk_id"]][0], pieces[m["bos_id"]][0]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": _added_tokens(m),
        "normalizer": normalizer,
        "pre_tokenizer": None,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": bos, "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {bos: {"id": bos, "ids": [m["bos_id"]], "tokens": [bos]}},
        },
        "decoder": decoder,
        "model": {
            "type": "BPE", "dropout": None, "unk_token": unk, "continuing_subword_prefix": None,
            "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": m["byte_fallback"],
            "ignore_merges": False,
            "vocab": {p: i for i, (p, _, _) in enumerate(pieces)},
            "merges": bpe_merges(pieces),
        },
    }


def _spm_normalizer_and_decoder(m):
    """Prepend("▁") + Replace(" ", "▁") normalizer and the matching decoder: reproduces
    SentencePiece's add_dummy_prefix exactly, also for lines that begin with spaces (a Metaspace
    pre-tokenizer does not prepend "▁" to a string that already starts with one)."""
    if m["normalizer_name"] != "identity" or m["remove_extra_whitespaces"]:
        raise ValueError("expected normalization_rule_name=identity and remove_extra_whitespaces=false, got %s/%s"
                         % (m["normalizer_name"], m["remove_extra_whitespaces"]))
    normalizers = ([{"type": "Prepend", "prepend": SPACE}] if m["add_dummy_prefix"] else []) + [
        {"type": "Replace", "pattern": {"String": " "}, "content": SPACE}]
    decoder = {"type": "Sequence", "decoders": [
        {"type": "Replace", "pattern": {"String": SPACE}, "content": " "},
        {"type": "ByteFallback"}, {"type": "Fuse"},
        {"type": "Strip", "content": " ", "start": 1 if m["add_dummy_prefix"] else 0, "stop": 0}]}
    return {"type": "Sequence", "normalizers": normalizers}, decoder


def unigram_tokenizer_json(m):
    normalizer, decoder = _spm_normalizer_and_decoder(m)
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": _added_tokens(m),
        "normalizer": normalizer,
        "pre_tokenizer": None,
        "post_processor": None,
        "decoder": decoder,
        "model": {"type": "Unigram", "unk_id": m["unk_id"], "byte_fallback": m["byte_fallback"],
                  "vocab": [[p, s] for p, s, _ in m["pieces"]]},
    }


def llama_configs(m):
    pieces = m["pieces"]
    unk, bos, eos = (pieces[m[k]][0] for k in ("unk_id", "bos_id", "eos_id"))
    decoder = {str(t["id"]): {k: v for k, v in t.items() if k != "id"} for t in _added_tokens(m)}
    config = {
        "add_bos_token": True, "add_eos_token": False, "added_tokens_decoder": decoder,
        "additional_special_tokens": [], "bos_token": bos, "clean_up_tokenization_spaces": False,
        "eos_token": eos, "legacy": True, "model_max_length": 1000000000000000019884624838656,
        "pad_token": None, "sp_model_kwargs": {}, "spaces_between_special_tokens": False,
        "tokenizer_class": "LlamaTokenizer", "unk_token": unk, "use_default_system_prompt": False,
    }
    special = {"bos_token": _token(bos), "eos_token": _token(eos), "unk_token": _token(unk)}
    return config, special


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("out_dir")
    ap.add_argument("--configs", action="store_true")
    args = ap.parse_args()
    m = spm.read_model(args.model)
    kind = {1: "unigram", 2: "bpe"}.get(m["model_type"])
    if kind is None:
        raise ValueError("%s: model_type %d is neither unigram nor bpe" % (args.model, m["model_type"]))
    tok = bpe_tokenizer_json(m) if kind == "bpe" else unigram_tokenizer_json(m)
    os.makedirs(args.out_dir, exist_ok=True)

    def dump(name, obj):
        with open(os.path.join(args.out_dir, name), "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=2, ensure_ascii=False)
            f.write("\n")

    dump("tokenizer.json", tok)
    if args.configs:
        config, special = llama_configs(m)
        dump("tokenizer_config.json", config)
        dump("special_tokens_map.json", special)
    n_merges = len(tok["model"].get("merges", []))
    print("sp_to_hf: %s -> %s/tokenizer.json (%s, %d pieces, %d merges)"
          % (args.model, args.out_dir, kind, len(m["pieces"]), n_merges))


if __name__ == "__main__":
    sys.exit(main())
