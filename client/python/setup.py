"""Build hook of zett-client: generates the zett.v1 stubs from the repository's .proto files.

`build_py` runs protoc (--python_out) and grpc_python_plugin (--grpc_python_out) over
proto/zett/v1/zett.proto and proto/grpc/health/v1/health.proto into the build tree's
zett_client/_proto/ package; nothing generated is checked in. The proto root is $ZETT_PROTO_ROOT, else ../../proto (this folder inside the zett
repository). protoc is $PROTOC or the one on PATH; the plugin is $GRPC_PYTHON_PLUGIN or
grpc_python_plugin on PATH (Debian: protobuf-compiler, protobuf-compiler-grpc).
"""
import os
import re
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
PROTOS = ["zett/v1/zett.proto", "grpc/health/v1/health.proto"]
PACKAGE = "zett_client._proto"


def _tool(env, name):
    path = os.environ.get(env) or shutil.which(name)
    if not path:
        raise SystemExit("zett-client: %s not found (set %s or install Debian's %s)" % (
            name, env, "protobuf-compiler" if name == "protoc" else "protobuf-compiler-grpc"))
    return path


def generate_stubs(out_root):
    proto_root = os.environ.get("ZETT_PROTO_ROOT") or os.path.normpath(
        os.path.join(HERE, "..", "..", "proto"))
    for proto in PROTOS:
        if not os.path.isfile(os.path.join(proto_root, proto)):
            raise SystemExit("zett-client: %s not found under %s (set ZETT_PROTO_ROOT to the "
                             "zett repository's proto/ folder)" % (proto, proto_root))
    target = os.path.join(out_root, *PACKAGE.split("."))
    os.makedirs(target, exist_ok=True)
    cmd = [_tool("PROTOC", "protoc"), "--proto_path=" + proto_root,
           "--python_out=" + target, "--grpc_python_out=" + target,
           "--plugin=protoc-gen-grpc_python=" + _tool("GRPC_PYTHON_PLUGIN", "grpc_python_plugin")]
    subprocess.run(cmd + PROTOS, check=True)
    # The generated modules import each other as top-level `zett.v1`; make them package-relative
    # so that nothing named `zett` is installed at the top level.
    for dirpath, _, files in os.walk(target):
        rel = os.path.relpath(dirpath, target)
        if rel != ".":
            init = os.path.join(dirpath, "__init__.py")
            if not os.path.exists(init):
                open(init, "w").close()
        for name in files:
            if not name.endswith(".py"):
                continue
            path = os.path.join(dirpath, name)
            with open(path) as f:
                text = f.read()
            text = re.sub(r"^from zett\.v1 import ", "from %s.zett.v1 import " % PACKAGE, text,
                          flags=re.M)
            # `import grpc` stays the grpcio library; only the generated health module moves.
            text = re.sub(r"^from grpc\.health\.v1 import ",
                          "from %s.grpc.health.v1 import " % PACKAGE, text, flags=re.M)
            with open(path, "w") as f:
                f.write(text)


class BuildPyWithStubs(build_py):
    def run(self):
        super().run()
        generate_stubs(self.build_lib)


setup(cmdclass={"build_py": BuildPyWithStubs})
