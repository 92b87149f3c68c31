"""zett-py (python3 -m zett_client): the package's transfer / models / apply from a shell.

  zett-py transfer --server HOST:PORT --model NAME --tokenizer tokenizer.json [--dtype bf16]
                   [--out DIR] [--compare-with DIR]
  zett-py models --server HOST:PORT
  zett-py apply --server HOST:PORT --model NAME --tokenizer tokenizer.json --base DIR --out DIR
Prints one JSON object. `--compare-with` checks the rows and vocabulary bit for bit against a
C++ `zett transfer --out` folder; exit 1 when they differ, 2 on an RPC error.
"""
import argparse
import json
import os
import sys
import time

from google.protobuf import json_format

from . import Client, ZettError
from .safetensors import read_safetensors


def compare_with(result, folder):
    """Failures (strings) of comparing a TransferResult with a `zett transfer` output folder."""
    failures = []
    theirs, _ = read_safetensors(os.path.join(folder, "embeddings.safetensors"))
    for name in result.matrix_names:
        if name not in theirs:
            failures.append("%s: not in the C++ client's output" % name)
        elif theirs[name][2] != result.raw(name):
            failures.append("%s: rows differ from the C++ client's output" % name)
    extra = set(theirs) - set(result.matrix_names)
    if extra:
        failures.append("C++ output has matrices this stream lacks: %s" % sorted(extra))
    with open(os.path.join(folder, "vocabulary.json"), encoding="utf-8") as f:
        their_vocabulary = json.load(f)
    if their_vocabulary != [t.as_dict() for t in result.vocabulary]:
        failures.append("vocabulary differs from the C++ client's vocabulary.json")
    return failures


def main(argv=None):
    parser = argparse.ArgumentParser(prog="zett-py", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--server", required=True, help="HOST:PORT of zett-server")
    common.add_argument("--bearer-token-file")
    common.add_argument("--tls-ca-file", help="PEM roots; turns TLS on")
    common.add_argument("--timeout", type=float, default=600.0)
    for name in ("transfer", "apply"):
        p = sub.add_parser(name, parents=[common])
        p.add_argument("--model", required=True)
        p.add_argument("--tokenizer", required=True)
        p.add_argument("--dtype", choices=["fp32", "bf16", "fp16"])
        p.add_argument("--version", type=int, default=0)
        p.add_argument("--out")
        if name == "transfer":
            p.add_argument("--compare-with", help="a `zett transfer --out` folder to match")
        else:
            p.add_argument("--base", required=True)
            p.add_argument("--force", action="store_true")
    sub.add_parser("models", parents=[common])
    args = parser.parse_args(argv)

    client = Client(args.server, token_file=args.bearer_token_file,
                    root_certificates=args.tls_ca_file, timeout=args.timeout)
    summary = {}
    try:
        if args.command == "models":
            summary["models"] = [json_format.MessageToDict(m) for m in client.list_models()]
        elif args.command == "apply":
            if not args.out:
                parser.error("apply: --out is required")
            summary = client.apply(args.model, args.tokenizer, args.base, args.out, load=False,
                                   force=args.force, dtype=args.dtype, version=args.version)
        else:
            start = time.monotonic()
            result = client.transfer(args.model, args.tokenizer, dtype=args.dtype,
                                     version=args.version)
            summary = {"model": result.model, "version": result.version, "dtype": result.dtype,
                       "vocab_size": len(result.vocabulary),
                       "seconds": round(time.monotonic() - start, 4),
                       "matrices": {n: {"shape": list(result.wire_array(n).shape),
                                        "sha256": result.sha256[n]}
                                    for n in result.matrix_names},
                       "checks": {"trailer_sha256": "ok"}, "failures": []}
            if args.out:
                result.save(args.out)
            if args.compare_with:
                failures = compare_with(result, args.compare_with)
                summary["checks"]["bitwise_equal_to_cpp_client"] = "fail" if failures else "ok"
                summary["failures"] = failures
    except ZettError as e:
        print(json.dumps({"error": e.code.name, "details": e.details}), file=sys.stdout)
        return 2
    finally:
        client.close()
    print(json.dumps(summary, sort_keys=True, ensure_ascii=False))
    return 1 if summary.get("failures") else 0


if __name__ == "__main__":
    sys.exit(main())
