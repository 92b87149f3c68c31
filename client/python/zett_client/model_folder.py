"""`apply`: a transferred Hugging Face model folder, as `zett apply` writes it
(client/apply/transferred_model.cc), and the transformers model loaded from it.

The folder is written with numpy only (no torch, no transformers); loading it needs
transformers. Rows of the transfer's vocabulary table are mapped to the target tokenizer's ids
as `zett apply` does: each target id takes the row of its byte-level surface form; a target
special token the table lacks takes the row of the base special token with the same role (eos,
bos, pad, unk); ids without a row get the mean row.

Surface forms are looked up as in C++: zett's whitespace-consistent form (multi-whitespace
tokens renamed `<unused_whitespace__i>`), the plain byte-level form (byte-level tokens as they
are; SentencePiece `▁` and `<0xNN>`, WordPiece `##` converted), then the token itself. The plain
conversion here reads the tokenizer.json's pre-tokenizer / normalizer / model fields instead of
running the pipeline on " test" as the C++ one does; exotic pipelines may convert differently.
"""
import json
import os
import shutil

import numpy as np

from .safetensors import read_safetensors, write_safetensors

DECODERS = {"LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM"}
INPUT_NAME, OUTPUT_NAME = "model.embed_tokens.weight", "lm_head.weight"
_TORCH_DTYPES = {"float32": "fp32", "bfloat16": "bf16", "float16": "fp16"}
_ST_DTYPE = {"fp32": "F32", "bf16": "BF16", "fp16": "F16"}
_ROLES = ("eos_token", "bos_token", "pad_token", "unk_token")


class ApplyError(ValueError):
    """The base, target or transfer do not fit together (the `zett apply` refusals)."""


def require_transformers():
    try:
        import transformers  # noqa: F401
    except ImportError as e:
        raise ImportError(
            "zett_client.apply(load=True) returns a transformers model and needs transformers "
            "(pip install 'zett-client[transformers]'); apply(..., load=False) writes the "
            "model folder without it") from e


def base_dtype(base_dir):
    """The stream dtype `zett apply` asks for: the base config's torch_dtype, else fp32."""
    config = _read_json(os.path.join(base_dir, "config.json"))
    return _TORCH_DTYPES.get(config.get("torch_dtype"), "fp32")


def _read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, ensure_ascii=False, indent=2)
        f.write("\n")


def _token_string(config, key):
    value = config.get(key) if isinstance(config, dict) else None
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("content"), str):
        return value["content"]
    return None


# --- the target tokenizer: ids, specials, surface forms -----------------------------------

def _bytes_to_unicode():
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) +
          list(range(ord("®"), ord("ÿ") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


_BYTE_CHARS = _bytes_to_unicode()


def _byte_chars(text):
    return "".join(_BYTE_CHARS[b] for b in text.encode("utf-8"))


def _has_type(node, name):
    if isinstance(node, dict):
        if node.get("type") == name:
            return True
        return any(_has_type(v, name) for v in node.values())
    if isinstance(node, list):
        return any(_has_type(v, name) for v in node)
    return False


class TargetTokenizer:
    """What apply needs of a tokenizer.json: id -> content, special ids, surface forms."""

    def __init__(self, path, tokenizer_config=None):
        self.path = path
        self.json = _read_json(path)
        model = self.json.get("model") or {}
        vocab = model.get("vocab")
        self.id_to_token = {}
        if isinstance(vocab, dict):
            self.id_to_token = {int(i): t for t, i in vocab.items()}
        elif isinstance(vocab, list):  # Unigram: [[piece, score], ...]
            self.id_to_token = {i: entry[0] for i, entry in enumerate(vocab)}
        self.added = {}
        for entry in self.json.get("added_tokens") or []:
            self.added[int(entry["id"])] = entry
            self.id_to_token[int(entry["id"])] = entry["content"]
        self.vocab_size = 1 + max(self.id_to_token) if self.id_to_token else 0
        self.token_to_id = {}
        for i in sorted(self.id_to_token):
            self.token_to_id.setdefault(self.id_to_token[i], i)
        self.config = tokenizer_config
        self.byte_level = (_has_type(self.json.get("pre_tokenizer"), "ByteLevel") or
                           _has_type(self.json.get("decoder"), "ByteLevel"))
        self.meta = "▁" if (_has_type(self.json.get("pre_tokenizer"), "Metaspace") or
                            _has_type(self.json.get("normalizer"), "Replace") and
                            "▁" in json.dumps(self.json.get("normalizer"),
                                              ensure_ascii=False)) else None
        self.prefix = model.get("continuing_subword_prefix") if model.get("type") == "WordPiece" \
            else None
        self.byte_fallback = bool(model.get("byte_fallback"))

    def content(self, token_id):
        return self.id_to_token.get(token_id, "")

    def special_ids(self):
        """transformers' all_special_tokens: from the config when given, else special=true."""
        if self.config is None:
            return {i for i, e in self.added.items() if e.get("special")}
        names = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token",
                 "mask_token"]
        strings = [_token_string(self.config, n) for n in names]
        for extra in self.config.get("additional_special_tokens") or []:
            strings.append(extra if isinstance(extra, str) else
                           extra.get("content") if isinstance(extra, dict) else None)
        return {self.token_to_id[s] for s in strings if s is not None and s in self.token_to_id}

    def _raw_form(self, token_id):
        text = self.content(token_id)
        entry = self.added.get(token_id)
        if self.byte_level or (entry is not None and entry.get("special")):
            return text
        if self.meta:
            text = text.replace(self.meta, " ")
        if self.prefix:
            text = text[len(self.prefix):] if text.startswith(self.prefix) else " " + text
        return _byte_chars(text)

    def surface_forms(self):
        """Plain byte-level surface form per id (the C++ RawSurfaceForms +
        MapByteFallbackPieces): `<0xNN>` pieces (NN < 0xFF) become their byte char unless
        another token already has that form."""
        if getattr(self, "_forms", None) is None:
            forms = [self._raw_form(i) for i in range(self.vocab_size)]
            if self.byte_fallback:
                present = set(forms)
                for i in range(self.vocab_size):
                    text = self.content(i)
                    if len(text) == 6 and text.startswith("<0x") and text.endswith(">"):
                        try:
                            byte = int(text[3:5], 16)
                        except ValueError:
                            continue
                        if byte < 0xFF and _BYTE_CHARS[byte] not in present:
                            forms[i] = _BYTE_CHARS[byte]
            self._forms = forms
        return self._forms

    def surface_form(self, token_id):
        return self.surface_forms()[token_id]

    def consistent_surface_forms(self):
        """Surface forms after zett's make_whitespace_consistent (the C++ MakeWhitespaceConsistent):
        tokens of several whitespace chars, or blank ones, become `<unused_whitespace__i>`
        unless they are one of the canonical runs c2 + c1 * k (k < 16), each kept once."""
        ws = [_BYTE_CHARS[ord(" ")], _BYTE_CHARS[ord("\n")], _BYTE_CHARS[ord("\t")]]
        allowed = [c2 + c1 * k for c1 in ws for k in range(1, 16) for c2 in ws]
        forms = []
        for token_id in range(self.vocab_size):
            form = self.surface_form(token_id)
            count = sum(form.count(c) for c in ws)
            blank = form.strip() == ""
            if count or blank:
                if form in allowed:
                    allowed.remove(form)
                elif count > 1 or blank:
                    form = "<unused_whitespace__%d>" % token_id
            forms.append(form)
        return forms


# --- numerics ---------------------------------------------------------------------------

def _to_float32(array, dtype):
    if dtype == "bf16":
        return (array.astype(np.uint32) << 16).view(np.float32)
    return array.astype(np.float32)


def _from_float32(values, dtype):
    """float32 -> wire array of `dtype` (bf16 rounded to nearest even, as torch does)."""
    values = np.ascontiguousarray(values, dtype=np.float32)
    if dtype == "fp32":
        return values
    if dtype == "fp16":
        return values.astype(np.float16)
    bits = values.view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)
    nan = np.isnan(values)
    if nan.any():
        rounded[nan] = ((bits[nan] >> 16) | 0x40).astype(np.uint16)
    return rounded


_ST_TO_WIRE = {"F32": "fp32", "BF16": "bf16", "F16": "fp16"}
_WIRE_NP = {"fp32": np.dtype("<f4"), "bf16": np.dtype("<u2"), "fp16": np.dtype("<f2")}


def map_rows(result, target, base_dir, special):
    """(gather index per target id, [ids that get the mean row], counts) as `zett apply`."""
    rows = len(result.vocabulary)
    normal, specials = {}, {}
    for row, entry in enumerate(result.vocabulary):
        (specials if entry.special else normal).setdefault(entry.token, row)
    base_strings = {}
    for name in ("tokenizer_config.json", "special_tokens_map.json"):
        path = os.path.join(base_dir, name)
        if os.path.exists(path):
            base_strings = _read_json(path)
            break
    target_specials = target.special_ids()
    consistent = target.consistent_surface_forms()
    gather = np.zeros(target.vocab_size, dtype=np.int64)
    missing = []
    counts = {"rows_by_surface_form": 0, "rows_by_role": 0, "rows_mean": 0}
    for token_id in range(target.vocab_size):
        content = target.content(token_id)
        row = -1
        if token_id in target_specials:
            if content in specials:
                row = specials[content]
            else:
                for role in _ROLES:
                    if special.get(role, (None, None))[0] != content:
                        continue
                    base_string = _token_string(base_strings, role)
                    if base_string is not None and base_string in specials:
                        row = specials[base_string]
                        counts["rows_by_role"] += 1
                        break
        if row < 0:
            for key in (consistent[token_id], target.surface_form(token_id), content):
                if key in normal:
                    row = normal[key]
                    counts["rows_by_surface_form"] += 1
                    break
        if row < 0:
            missing.append(token_id)
        gather[token_id] = max(row, 0)
    counts["rows_mean"] = len(missing)
    if rows == 0:
        raise ApplyError("the transfer has no rows")
    return gather, missing, counts


def _remap(table, dtype, gather, missing):
    out = table[gather]
    if missing:
        mean = _from_float32(_to_float32(table, dtype).mean(axis=0, dtype=np.float32), dtype)
        out[np.asarray(missing)] = mean
    return out


def _special_tokens(base_dir, tokenizer_json, tokenizer_config, target):
    """{role: (content, id)} and where the strings came from, as the C++ FindSpecialTokens."""
    config_path = tokenizer_config
    if config_path is None:
        beside = os.path.join(os.path.dirname(tokenizer_json), "tokenizer_config.json")
        if os.path.exists(beside):
            config_path = beside
    target_config = None
    if config_path is not None:
        strings = target_config = _read_json(config_path)
        source = config_path
    else:
        strings, source = {}, "none (no tokenizer_config.json)"
        for name in ("tokenizer_config.json", "special_tokens_map.json"):
            path = os.path.join(base_dir, name)
            if os.path.exists(path):
                strings, source = _read_json(path), path + " (base strings found in the target)"
                break
    roles = {}
    for role in ("bos_token", "eos_token", "pad_token", "unk_token"):
        content = _token_string(strings, role)
        if content is not None and content in target.token_to_id:
            roles[role] = (content, target.token_to_id[content])
    return roles, source, target_config


def write_model(result, tokenizer_json, base_dir, out_dir, *, force=False, tokenizer_config=None):
    """Writes the model folder; returns a summary dict (the counts of `zett apply`)."""
    tokenizer_json, base_dir, out_dir = map(os.fspath, (tokenizer_json, base_dir, out_dir))
    if not os.path.isdir(base_dir):
        raise FileNotFoundError("base model folder %s does not exist" % base_dir)
    if not os.path.exists(tokenizer_json):
        raise FileNotFoundError("target tokenizer %s does not exist" % tokenizer_json)
    if not tokenizer_json.endswith(".json"):
        raise ApplyError("apply needs the target as a Hugging Face tokenizer.json, got %s" %
                         tokenizer_json)
    if os.path.exists(out_dir):
        if os.path.samefile(out_dir, base_dir):
            raise ApplyError("out dir %s is the base model folder; choose another" % out_dir)
        if not os.path.isdir(out_dir):
            raise ApplyError("%s exists and is not a folder" % out_dir)
        if os.listdir(out_dir) and not force:
            raise ApplyError("%s exists and is not empty (force=True replaces it)" % out_dir)
    config = _read_json(os.path.join(base_dir, "config.json"))
    architecture = (config.get("architectures") or [""])[0]
    if architecture not in DECODERS:
        raise ApplyError("%s/config.json: apply supports decoder models (Llama, Mistral, Qwen2), "
                         "not %s" % (base_dir, architecture or "an unnamed architecture"))
    tied = bool(config.get("tie_word_embeddings", True))
    names = result.matrix_names
    if "input_embeddings" not in names:
        raise ApplyError('the transfer has no "input_embeddings" matrix')
    if tied and "output_embeddings" in names:
        raise ApplyError('%s ties its embeddings but the transfer has untied "output_embeddings"'
                         % base_dir)
    if not tied and "output_embeddings" not in names:
        raise ApplyError('%s has an untied LM head but the transfer has no "output_embeddings"'
                         % base_dir)

    target_cfg_path = tokenizer_config
    if target_cfg_path is None:
        beside = os.path.join(os.path.dirname(tokenizer_json), "tokenizer_config.json")
        target_cfg_path = beside if os.path.exists(beside) else None
    target = TargetTokenizer(tokenizer_json,
                             _read_json(target_cfg_path) if target_cfg_path else None)
    special, source, target_config = _special_tokens(base_dir, tokenizer_json, tokenizer_config,
                                                     target)
    gather, missing, counts = map_rows(result, target, base_dir, special)
    transferred = {INPUT_NAME: _remap(result.wire_array("input_embeddings").copy(), result.dtype,
                                      gather, missing)}
    if not tied:
        transferred[OUTPUT_NAME] = _remap(result.wire_array("output_embeddings").copy(),
                                          result.dtype, gather, missing)
    hidden = transferred[INPUT_NAME].shape[1]

    index_path = os.path.join(base_dir, "model.safetensors.index.json")
    index = None
    if os.path.exists(index_path):
        index = _read_json(index_path)
        shards = sorted(set(index["weight_map"].values()))
    elif os.path.exists(os.path.join(base_dir, "model.safetensors")):
        shards = ["model.safetensors"]
    else:
        raise FileNotFoundError("%s: neither model.safetensors nor model.safetensors.index.json"
                                % base_dir)

    staging = out_dir.rstrip("/") + ".partial"
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    try:
        replaced, total = [], 0
        for shard in shards:
            tensors, metadata = read_safetensors(os.path.join(base_dir, shard))
            for name in (INPUT_NAME, OUTPUT_NAME):
                if name not in tensors:
                    continue
                st_dtype, shape, _ = tensors[name]
                with_table = transferred[INPUT_NAME if tied else name]
                if len(shape) != 2 or shape[1] != hidden:
                    raise ApplyError('hidden size differs: %s/%s has "%s" %s but the transferred '
                                     "embeddings are %s" % (base_dir, shard, name, shape,
                                                            list(with_table.shape)))
                wire = _ST_TO_WIRE.get(st_dtype)
                if wire is None:
                    raise ApplyError("%s: dtype %s of %s not supported" % (shard, st_dtype, name))
                values = with_table if wire == result.dtype else _from_float32(
                    _to_float32(with_table, result.dtype), wire)
                values = np.ascontiguousarray(values, dtype=_WIRE_NP[wire])
                tensors[name] = (st_dtype, list(values.shape), values.tobytes())
                replaced.append(name)
            total += sum(len(t[2]) for t in tensors.values())
            write_safetensors(os.path.join(staging, shard), tensors, metadata)
        if INPUT_NAME not in replaced:
            raise ApplyError('%s: no tensor "%s"' % (base_dir, INPUT_NAME))
        if not tied and OUTPUT_NAME not in replaced:
            raise ApplyError('%s: tie_word_embeddings is false but there is no "%s"' %
                             (base_dir, OUTPUT_NAME))
        if index is not None:
            index.setdefault("metadata", {})["total_size"] = total
            _write_json(os.path.join(staging, "model.safetensors.index.json"), index)

        ids = {role: special[role][1] if role in special else None for role in _ROLES}
        config["vocab_size"] = target.vocab_size
        for role in ("bos_token", "eos_token", "pad_token"):
            config[role + "_id"] = ids[role]
        _write_json(os.path.join(staging, "config.json"), config)
        generation = os.path.join(base_dir, "generation_config.json")
        if os.path.exists(generation):
            gen = _read_json(generation)
            for role in ("bos_token", "eos_token", "pad_token"):
                gen[role + "_id"] = ids[role]
            for key in ("decoder_start_token_id", "forced_bos_token_id", "forced_eos_token_id",
                        "suppress_tokens", "begin_suppress_tokens", "bad_words_ids"):
                gen.pop(key, None)
            _write_json(os.path.join(staging, "generation_config.json"), gen)

        shutil.copyfile(tokenizer_json, os.path.join(staging, "tokenizer.json"))
        tok_config = {"tokenizer_class": "PreTrainedTokenizerFast",
                      "clean_up_tokenization_spaces": False,
                      "model_max_length": config.get("max_position_embeddings")}
        for role in ("bos_token", "eos_token", "pad_token", "unk_token"):
            tok_config[role] = special[role][0] if role in special else None
        for key in ("clean_up_tokenization_spaces", "model_max_length", "padding_side",
                    "truncation_side", "model_input_names"):
            if isinstance(target_config, dict) and key in target_config:
                tok_config[key] = target_config[key]
        pre = target.json.get("pre_tokenizer")
        if isinstance(pre, dict) and isinstance(pre.get("add_prefix_space"), bool):
            tok_config["add_prefix_space"] = pre["add_prefix_space"]
        _write_json(os.path.join(staging, "tokenizer_config.json"), tok_config)
        _write_json(os.path.join(staging, "special_tokens_map.json"),
                    {role: special[role][0] for role in ("bos_token", "eos_token", "pad_token",
                                                         "unk_token") if role in special})
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(out_dir, ignore_errors=True)
    os.rename(staging, out_dir)
    summary = {"architecture": architecture, "vocab_size": target.vocab_size,
               "hidden_size": int(hidden), "tied": tied, "replaced_tensors": replaced,
               "special_tokens_source": source,
               "special_tokens": {r: special.get(r) for r in _ROLES}, "out_dir": out_dir}
    summary.update(counts)
    return summary


def apply(result, tokenizer_json, base_dir, out_dir, *, load=True, force=False,
          tokenizer_config=None, **from_pretrained):
    """Writes `out_dir` from a TransferResult (see write_model) and, when `load`, returns
    transformers.AutoModelForCausalLM.from_pretrained(out_dir, **from_pretrained); else the
    summary dict."""
    if load:
        require_transformers()
    summary = write_model(result, tokenizer_json, base_dir, out_dir, force=force,
                          tokenizer_config=tokenizer_config)
    if not load:
        return summary
    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_pretrained(out_dir, **from_pretrained)
    model.zett_apply_summary = summary
    return model
