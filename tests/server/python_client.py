#!/usr/bin/env python3
"""A second-language zett.v1 client (Python grpcio), stubs generated from proto/zett/v1/zett.proto.

Fetches a Transfer stream, reassembles each matrix, verifies the trailer's SHA-256 per matrix
and prints a JSON summary. Needs Debian's python3-grpcio + python3-protobuf (run with
/usr/bin/python3) and protoc + grpc_python_plugin.

  python_client.py --proto-root REPO --server HOST:PORT --model NAME --tokens a,b,c [--dtype bf16]
"""
import argparse
import hashlib
import importlib
import json
import os
import subprocess
import sys
import tempfile


def load_stubs(proto_root):
    out = tempfile.mkdtemp(prefix="zett_py_")
    subprocess.run(["protoc", f"--proto_path={proto_root}", f"--python_out={out}",
                    f"--grpc_out={out}", "--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin",
                    "zett/v1/zett.proto"], check=True)
    sys.path.insert(0, out)
    return (importlib.import_module("zett.v1.zett_pb2"),
            importlib.import_module("zett.v1.zett_pb2_grpc"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--proto-root", required=True, help="folder holding zett/v1/zett.proto")
    parser.add_argument("--server", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--tokens", required=True, help="comma-separated byte-level tokens")
    parser.add_argument("--dtype", default="fp32", choices=["fp32", "bf16", "fp16"])
    args = parser.parse_args()

    import grpc
    pb, pb_grpc = load_stubs(args.proto_root)
    dtype = {"fp32": pb.DTYPE_FP32, "bf16": pb.DTYPE_BF16, "fp16": pb.DTYPE_FP16}[args.dtype]
    request = pb.TransferRequest(
        model=args.model,
        token_list=pb.TokenList(tokens=args.tokens.split(","), kind=pb.TOKEN_KIND_BYTE_LEVEL),
        options=pb.TransferOptions(dtype=dtype))
    stub = pb_grpc.TokenizerTransferStub(grpc.insecure_channel(args.server))
    header, trailer, vocabulary, data = None, None, [], {}
    for message in stub.Transfer(request, timeout=60):
        part = message.WhichOneof("part")
        if part == "header":
            header = message.header
            data = {shape.matrix: bytearray() for shape in header.shapes}
        elif part == "vocabulary":
            assert message.vocabulary.first_id == len(vocabulary), "vocabulary out of order"
            vocabulary.extend(entry.token for entry in message.vocabulary.tokens)
        elif part == "rows":
            block = message.rows
            data[block.matrix] += block.data
        elif part == "trailer":
            trailer = message.trailer
    assert header is not None and trailer is not None, "stream without header or trailer"
    width = 4 if header.dtype == pb.DTYPE_FP32 else 2
    summary = {"model": header.model, "version": header.version, "vocab_size": len(vocabulary),
               "matrices": {}}
    for shape in header.shapes:
        name = pb.Matrix.Name(shape.matrix)
        blob = bytes(data[shape.matrix])
        assert len(blob) == shape.rows * shape.cols * width, f"{name}: {len(blob)} bytes"
        expected = next(c.sha256 for c in trailer.checksums if c.matrix == shape.matrix)
        assert hashlib.sha256(blob).digest() == expected, f"{name}: checksum mismatch"
        summary["matrices"][name] = {"rows": shape.rows, "cols": shape.cols,
                                     "sha256": hashlib.sha256(blob).hexdigest()}
    print(json.dumps(summary, sort_keys=True))


if __name__ == "__main__":
    main()
