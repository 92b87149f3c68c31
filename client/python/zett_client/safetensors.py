"""Minimal safetensors reader/writer over raw bytes (no torch, no safetensors package)."""
import json
import struct

import numpy as np

NUMPY_DTYPES = {"F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "BF16": np.dtype("<u2"),
                "F64": np.dtype("<f8"), "I64": np.dtype("<i8"), "I32": np.dtype("<i4"),
                "I16": np.dtype("<i2"), "I8": np.dtype("i1"), "U8": np.dtype("u1"),
                "BOOL": np.dtype("?")}


def read_safetensors(path):
    """({name: (dtype string, shape, bytes)}, metadata dict or None), tensors in file order."""
    with open(path, "rb") as f:
        data = f.read()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_len])
    base = 8 + header_len
    metadata = header.pop("__metadata__", None)
    tensors = {}
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        begin, end = info["data_offsets"]
        tensors[name] = (info["dtype"], list(info["shape"]), data[base + begin:base + end])
    return tensors, metadata


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: (dtype string, shape, bytes-like)} in sorted name order."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    offset = 0
    names = sorted(tensors)
    for name in names:
        dtype, shape, data = tensors[name]
        header[name] = {"dtype": dtype, "shape": list(shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)  # 8-byte aligned data, as the format recommends
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for name in names:
            f.write(tensors[name][2])
