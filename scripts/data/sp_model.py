"""Reads a SentencePiece `.model` (a serialized sentencepiece.ModelProto) with the stdlib only.

Only the fields the tokenizer.json conversion needs are decoded (field numbers from
google/sentencepiece src/sentencepiece_model.proto):
  ModelProto:      1 pieces (repeated), 2 trainer_spec, 3 normalizer_spec
  SentencePiece:   1 piece, 2 score (float), 3 type (1 NORMAL, 2 UNKNOWN, 3 CONTROL,
                   4 USER_DEFINED, 5 UNUSED, 6 BYTE)
  TrainerSpec:     3 model_type (1 UNIGRAM, 2 BPE), 35 byte_fallback, 40 unk_id, 41 bos_id,
                   42 eos_id, 43 pad_id
  NormalizerSpec:  1 name, 3 add_dummy_prefix, 4 remove_extra_whitespaces
"""

import struct

NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6


def _varint(buf, i):
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7


def _fields(buf):
    """Yields (field_number, wire_type, value) of one message; value is int, float bits or bytes."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 1:
            value, i = buf[i:i + 8], i + 8
        elif wire == 2:
            n, i = _varint(buf, i)
            value, i = buf[i:i + n], i + n
        elif wire == 5:
            value, i = buf[i:i + 4], i + 4
        else:
            raise ValueError("unsupported protobuf wire type %d" % wire)
        yield field, wire, value


def _signed(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def read_model(path):
    """Returns {"pieces": [(piece, score, type)], "model_type", "byte_fallback", "unk_id",
    "bos_id", "eos_id", "pad_id", "normalizer_name", "add_dummy_prefix", "remove_extra_whitespaces"}."""
    with open(path, "rb") as f:
        buf = f.read()
    out = {"pieces": [], "model_type": 1, "byte_fallback": False, "unk_id": 0, "bos_id": 1,
           "eos_id": 2, "pad_id": -1, "normalizer_name": "nmt_nfkc", "add_dummy_prefix": True,
           "remove_extra_whitespaces": True}
    for field, _, value in _fields(buf):
        if field == 1:
            piece, score, kind = "", 0.0, NORMAL
            for f2, _, v2 in _fields(value):
                if f2 == 1:
                    piece = v2.decode("utf-8")
                elif f2 == 2:
                    score = struct.unpack("<f", v2)[0]
                elif f2 == 3:
                    kind = v2
            out["pieces"].append((piece, score, kind))
        elif field == 2:
            names = {3: "model_type", 35: "byte_fallback", 40: "unk_id", 41: "bos_id", 42: "eos_id", 43: "pad_id"}
            for f2, wire, v2 in _fields(value):
                if f2 in names and wire == 0:
                    out[names[f2]] = _signed(v2) if f2 >= 40 else (bool(v2) if f2 == 35 else v2)
        elif field == 3:
            for f2, _, v2 in _fields(value):
                if f2 == 1:
                    out["normalizer_name"] = v2.decode("utf-8")
                elif f2 == 3:
                    out["add_dummy_prefix"] = bool(v2)
                elif f2 == 4:
                    out["remove_extra_whitespaces"] = bool(v2)
    return out
