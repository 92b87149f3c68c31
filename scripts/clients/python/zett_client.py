#!/usr/bin/env python3
"""zett.v1 client in Python (grpcio + protobuf only, no generated stubs, no grpc_tools).

The message classes come from a FileDescriptorSet of proto/zett/v1/zett.proto loaded at run
time: built with `protoc --include_imports --descriptor_set_out` when protoc is on PATH, else
the zett_v1.desc shipped beside this script (regenerate it with make_descriptor_set.sh). The
Transfer RPC is called with channel.unary_stream and the classes' own (de)serializers.

Fetches the embeddings of a tokenizer, reassembles each matrix, verifies the trailer's SHA-256
per matrix, and optionally checks the rows bit for bit against a C++ `zett transfer` output
folder (embeddings.safetensors + vocabulary.json). Prints a JSON summary; exit 1 on any failed
check.

  zett_client.py --server HOST:PORT --model NAME --tokenizer tokenizer.json [--dtype bf16]
      [--compare-with DIR] [--out DIR] [--bearer-token-file F] [--descriptor-set FILE]
"""
import argparse
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
SHIPPED_DESCRIPTOR_SET = os.path.join(HERE, "zett_v1.desc")
DTYPE_WIDTH = {"fp32": 4, "bf16": 2, "fp16": 2}
# Tensor names of embeddings.safetensors (client/remote/embeddings_writer.h).
TENSOR_NAMES = {"MATRIX_INPUT_EMBEDDINGS": "input_embeddings",
                "MATRIX_OUTPUT_EMBEDDINGS": "output_embeddings",
                "MATRIX_OUTPUT_BIAS": "output_bias"}


def build_descriptor_set(proto_root):
    """Serialized FileDescriptorSet from protoc, or None when protoc is missing or fails."""
    protoc = shutil.which("protoc")
    if protoc is None:
        return None, "no protoc on PATH"
    out = os.path.join(tempfile.mkdtemp(prefix="zett_desc_"), "zett_v1.desc")
    cmd = [protoc, "--include_imports", "--descriptor_set_out=" + out,
           "--proto_path=" + proto_root]
    if os.path.isdir("/usr/include/google/protobuf"):
        cmd.append("--proto_path=/usr/include")
    cmd.append("zett/v1/zett.proto")
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        return None, "protoc failed: " + result.stderr.strip()
    with open(out, "rb") as f:
        return f.read(), "protoc " + protoc


def load_messages(descriptor_set_bytes):
    """{short name: message class} and the Transfer method path, from a FileDescriptorSet."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    files = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set_bytes)
    pool = descriptor_pool.DescriptorPool()
    for file_proto in files.file:  # --include_imports lists dependencies first
        pool.AddSerializedFile(file_proto.SerializeToString())

    get_class = getattr(message_factory, "GetMessageClass", None)  # protobuf >= 4.21
    factory = None if get_class else message_factory.MessageFactory(pool)

    def message_class(full_name):
        descriptor = pool.FindMessageTypeByName(full_name)
        return get_class(descriptor) if get_class else factory.GetPrototype(descriptor)

    names = ["TransferRequest", "TransferResponse", "TransferOptions", "ListModelsRequest",
             "ListModelsResponse"]
    classes = {name: message_class("zett.v1." + name) for name in names}
    service = pool.FindServiceByName("zett.v1.TokenizerTransfer")
    enums = {}
    for enum_name in ("DType", "Matrix"):
        enum = pool.FindEnumTypeByName("zett.v1." + enum_name)
        enums[enum_name] = {v.name: v.number for v in enum.values}
        enums[enum_name + "_names"] = {v.number: v.name for v in enum.values}
    return classes, enums, "/%s/" % service.full_name


def read_safetensors(path):
    """{name: (dtype, shape, raw bytes)} without numpy or torch."""
    with open(path, "rb") as f:
        data = f.read()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_len])
    base = 8 + header_len
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        out[name] = (info["dtype"], info["shape"], data[base + begin:base + end])
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", required=True, help="HOST:PORT of zett-server")
    parser.add_argument("--model", required=True)
    parser.add_argument("--tokenizer", required=True, help="target tokenizer.json")
    parser.add_argument("--dtype", default="fp32", choices=sorted(DTYPE_WIDTH))
    parser.add_argument("--version", type=int, default=0)
    parser.add_argument("--compare-with", help="a `zett transfer` output folder to match")
    parser.add_argument("--out", help="write <name>.bin (raw rows) per matrix here")
    parser.add_argument("--bearer-token-file")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--proto-root", default=os.path.join(REPO, "proto"))
    parser.add_argument("--descriptor-set", help="a FileDescriptorSet to use instead of protoc")
    args = parser.parse_args()

    import grpc
    from google.protobuf import __version__ as protobuf_version

    if args.descriptor_set:
        with open(args.descriptor_set, "rb") as f:
            descriptor_set, source = f.read(), args.descriptor_set
    else:
        descriptor_set, source = build_descriptor_set(args.proto_root)
        if descriptor_set is None:
            print("zett_client: %s; using the shipped %s" % (source, SHIPPED_DESCRIPTOR_SET),
                  file=sys.stderr)
            with open(SHIPPED_DESCRIPTOR_SET, "rb") as f:
                descriptor_set, source = f.read(), SHIPPED_DESCRIPTOR_SET
    classes, enums, service_path = load_messages(descriptor_set)

    with open(args.tokenizer, "rb") as f:
        tokenizer_bytes = f.read()
    request = classes["TransferRequest"](model=args.model, version=args.version,
                                         tokenizer_json=tokenizer_bytes)
    request.options.dtype = enums["DType"]["DTYPE_" + args.dtype.upper()]
    metadata = []
    if args.bearer_token_file:
        with open(args.bearer_token_file) as f:
            metadata.append(("authorization", "Bearer " + f.read().strip()))

    channel = grpc.insecure_channel(args.server, options=[
        ("grpc.max_receive_message_length", 64 << 20),
        ("grpc.max_send_message_length", 64 << 20)])
    transfer = channel.unary_stream(
        service_path + "Transfer",
        request_serializer=classes["TransferRequest"].SerializeToString,
        response_deserializer=classes["TransferResponse"].FromString)

    start = time.monotonic()
    header, trailer, vocabulary, blocks, messages = None, None, [], {}, 0
    for message in transfer(request, timeout=args.timeout, metadata=metadata or None):
        messages += 1
        part = message.WhichOneof("part")
        if part == "header":
            if header is not None:
                raise SystemExit("zett_client: second header")
            header = message.header
            blocks = {shape.matrix: [] for shape in header.shapes}
        elif part == "vocabulary":
            if message.vocabulary.first_id != len(vocabulary):
                raise SystemExit("zett_client: vocabulary block out of order")
            vocabulary.extend(entry.token for entry in message.vocabulary.tokens)
        elif part == "rows":
            block = message.rows
            if header is None or block.matrix not in blocks:
                raise SystemExit("zett_client: row block before the header or of no matrix")
            blocks[block.matrix].append((block.first_row, block.num_rows, block.data))
        elif part == "trailer":
            trailer = message.trailer
    seconds = time.monotonic() - start
    if header is None or trailer is None:
        raise SystemExit("zett_client: stream without header or trailer")

    dtype_names = {v: k for k, v in enums["DType"].items()}
    dtype = dtype_names.get(header.dtype, "DTYPE_FP32").replace("DTYPE_", "").lower()
    dtype = "fp32" if dtype == "unspecified" else dtype
    width = DTYPE_WIDTH[dtype]
    checksums = {c.matrix: c.sha256 for c in trailer.checksums}
    summary = {"model": header.model, "version": header.version, "dtype": dtype,
               "vocab_size": len(vocabulary), "messages": messages,
               "seconds": round(seconds, 4), "descriptor_set": source,
               "grpcio": grpc.__version__, "protobuf": protobuf_version, "matrices": {},
               "checks": {}}
    failed = []
    matrices = {}
    for shape in header.shapes:
        name = enums["Matrix_names"].get(shape.matrix, str(shape.matrix))
        parts = sorted(blocks[shape.matrix])
        next_row, data = 0, bytearray()
        for first_row, num_rows, chunk in parts:
            if first_row != next_row:
                failed.append("%s: rows %d.. missing or overlapping" % (name, next_row))
                break
            data += chunk
            next_row += num_rows
        data = bytes(data)
        cols = shape.cols if shape.cols else 1
        if len(data) != shape.rows * cols * width:
            failed.append("%s: %d bytes, expected %d" % (name, len(data),
                                                         shape.rows * cols * width))
        digest = hashlib.sha256(data).digest()
        if checksums.get(shape.matrix) != digest:
            failed.append("%s: trailer SHA-256 mismatch" % name)
        matrices[name] = data
        summary["matrices"][name] = {"rows": shape.rows, "cols": shape.cols,
                                     "sha256": digest.hex()}
    summary["checks"]["trailer_sha256"] = "fail" if any("SHA" in f for f in failed) else "ok"

    if args.out:
        os.makedirs(args.out, exist_ok=True)
        for name, data in matrices.items():
            with open(os.path.join(args.out, TENSOR_NAMES.get(name, name) + ".bin"), "wb") as f:
                f.write(data)

    if args.compare_with:
        theirs = read_safetensors(os.path.join(args.compare_with, "embeddings.safetensors"))
        same = True
        for name, data in matrices.items():
            tensor = TENSOR_NAMES.get(name, name)
            if tensor not in theirs:
                failed.append("%s: not in the C++ client's output" % tensor)
                same = False
            elif theirs[tensor][2] != data:
                failed.append("%s: rows differ from the C++ client's output" % tensor)
                same = False
        extra = set(theirs) - {TENSOR_NAMES.get(n, n) for n in matrices}
        if extra:
            failed.append("C++ output has matrices this stream lacks: %s" % sorted(extra))
            same = False
        with open(os.path.join(args.compare_with, "vocabulary.json"), encoding="utf-8") as f:
            their_tokens = [entry["token"] for entry in json.load(f)]
        if their_tokens != vocabulary:
            failed.append("vocabulary differs from the C++ client's vocabulary.json")
            same = False
        summary["checks"]["bitwise_equal_to_cpp_client"] = "ok" if same else "fail"

    summary["failures"] = failed
    print(json.dumps(summary, sort_keys=True))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
