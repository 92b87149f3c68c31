"""zett.v1 client: channel set-up (TLS, bearer token), Transfer with stream reassembly and
checksum verification (the checks of the C++ client, client/remote/transfer_client.cc),
PredictTokens, ListModels / GetModel and grpc.health.v1 Check."""
import hashlib
import os

import grpc
import numpy as np

from . import errors
from ._proto.grpc.health.v1 import health_pb2
from ._proto.zett.v1 import zett_pb2 as pb
from ._proto.zett.v1 import zett_pb2_grpc as pb_grpc
from .safetensors import write_safetensors

# Wire dtypes: name <-> enum, and the numpy dtype of one value (bf16: raw 16-bit words).
DTYPES = {"fp32": pb.DTYPE_FP32, "bf16": pb.DTYPE_BF16, "fp16": pb.DTYPE_FP16}
_DTYPE_NAMES = {pb.DTYPE_UNSPECIFIED: "fp32", pb.DTYPE_FP32: "fp32", pb.DTYPE_BF16: "bf16",
                pb.DTYPE_FP16: "fp16"}
_WIRE_NUMPY = {"fp32": np.dtype("<f4"), "bf16": np.dtype("<u2"), "fp16": np.dtype("<f2")}
_SAFETENSORS_DTYPE = {"fp32": "F32", "bf16": "BF16", "fp16": "F16"}

# Tensor names, as in the C++ client's embeddings.safetensors (client/remote/embeddings_writer).
MATRIX_NAMES = {pb.MATRIX_INPUT_EMBEDDINGS: "input_embeddings",
                pb.MATRIX_OUTPUT_EMBEDDINGS: "output_embeddings",
                pb.MATRIX_OUTPUT_BIAS: "output_bias"}
_MATRIX_BY_NAME = {v: k for k, v in MATRIX_NAMES.items()}

TOKEN_KINDS = {"byte_level": pb.TOKEN_KIND_BYTE_LEVEL, "sentencepiece": pb.TOKEN_KIND_SENTENCEPIECE,
               "wordpiece": pb.TOKEN_KIND_WORDPIECE, "text": pb.TOKEN_KIND_TEXT}
SPECIAL_TOKEN_POLICIES = {"copy_original": pb.SPECIAL_TOKEN_POLICY_COPY_ORIGINAL,
                          "predict": pb.SPECIAL_TOKEN_POLICY_PREDICT}


def matrix_name(matrix):
    return MATRIX_NAMES.get(matrix, "matrix_%d" % matrix)


def bf16_to_float32(words):
    """uint16 bf16 bit patterns -> float32 (exact: bf16 is the top half of an fp32)."""
    return (words.astype(np.uint32) << 16).view(np.float32)


class Token:
    """One entry of the transfer's vocabulary table (zett.v1.TokenEntry)."""
    __slots__ = ("id", "token", "special", "truncated", "added", "copied")

    def __init__(self, entry):
        self.id, self.token, self.special = entry.id, entry.token, entry.special
        self.truncated, self.added, self.copied = entry.truncated, entry.added, entry.copied

    def as_dict(self):
        return {k: getattr(self, k) for k in self.__slots__}

    def __repr__(self):
        flags = [k for k in ("special", "truncated", "added", "copied") if getattr(self, k)]
        return "Token(%d, %r%s)" % (self.id, self.token, (", " + ", ".join(flags)) if flags else "")


class _Matrices:
    """Matrices by tensor name, kept as wire bytes; arrays are made on access."""

    def __init__(self, dtype, shapes, data):
        self.dtype = dtype
        self.shapes = shapes  # name -> (rows, cols)
        self._data = data     # name -> bytearray (wire bytes)

    def names(self):
        return list(self.shapes)

    def raw(self, name):
        """The matrix's bytes exactly as streamed: little-endian, row-major, the wire dtype."""
        return bytes(self._data[name])

    def wire_array(self, name):
        """The matrix as streamed (bf16 as uint16 bit patterns), no copy."""
        rows, cols = self.shapes[name]
        array = np.frombuffer(self._data[name], dtype=_WIRE_NUMPY[self.dtype])
        return array.reshape(rows) if name == "output_bias" else array.reshape(rows, cols)

    def array(self, name):
        """numpy array: float32 (fp32 and bf16 streams, bf16 widened exactly) or float16."""
        wire = self.wire_array(name)
        return bf16_to_float32(wire) if self.dtype == "bf16" else wire

    def torch(self, name):
        import torch
        wire = self.wire_array(name)
        if self.dtype == "bf16":
            return torch.from_numpy(wire.copy().view(np.int16)).view(torch.bfloat16)
        return torch.from_numpy(wire.copy())


class _MatrixView:
    """What a transfer's and a PredictTokens reply's result share: their vocabulary and named
    matrices (`self.vocabulary`, `self._matrices`, set by the subclass)."""

    @property
    def tokens(self):
        return [t.token for t in self.vocabulary]

    @property
    def matrix_names(self):
        return self._matrices.names()

    def array(self, name):
        return self._matrices.array(name)

    def raw(self, name):
        return self._matrices.raw(name)

    def wire_array(self, name):
        return self._matrices.wire_array(name)

    def _optional(self, name):
        return self._matrices.array(name) if name in self._matrices.shapes else None

    @property
    def input_embeddings(self):
        return self._matrices.array("input_embeddings")

    @property
    def output_embeddings(self):
        """None when the base model ties its embeddings."""
        return self._optional("output_embeddings")

    @property
    def output_bias(self):
        """None unless the hypernetwork predicts a bias."""
        return self._optional("output_bias")

    def as_torch(self):
        """{tensor name: torch.Tensor} in the stream's dtype (bf16 as torch.bfloat16)."""
        try:
            import torch  # noqa: F401
        except ImportError as e:
            raise ImportError("as_torch() needs torch "
                              "(pip install torch); numpy arrays: .array(name)") from e
        return {name: self._matrices.torch(name) for name in self._matrices.names()}


class TransferResult(_MatrixView):
    """A verified Transfer: the vocabulary table and one matrix per `matrices` entry.

    Row i of every matrix belongs to `vocabulary[i]` (the server's converted vocabulary:
    byte-level surface forms; use `apply` to map rows to a tokenizer's own ids).
    """

    def __init__(self, header, vocabulary, matrices, trailer, sha256):
        self.header = header
        self.trailer = trailer
        self.model = header.model
        self.version = header.version
        self.dtype = matrices.dtype
        self.tied_embeddings = header.tied_embeddings
        self.cache_hit = header.cache_hit
        self.vocabulary = vocabulary
        self.sha256 = sha256  # tensor name -> hex digest (checked against the trailer)
        self._matrices = matrices

    @property
    def timings(self):
        t = self.trailer
        return {"queue": t.queue_seconds, "parse": t.parse_seconds,
                "decompose": t.decompose_seconds, "predict": t.predict_seconds,
                "stream": t.stream_seconds, "total": t.total_seconds}

    def save(self, directory):
        """Writes what `zett transfer --out` writes: embeddings.safetensors (metadata included)
        and vocabulary.json; `zett apply --embeddings DIR` reads it."""
        import json
        os.makedirs(directory, exist_ok=True)
        tensors = {}
        for name in self._matrices.names():
            rows, cols = self._matrices.shapes[name]
            shape = [rows] if name == "output_bias" else [rows, cols]
            tensors[name] = (_SAFETENSORS_DTYPE[self.dtype], shape, self._matrices._data[name])
        metadata = {"format": "pt", "zett_model": self.model, "zett_version": str(self.version),
                    "zett_dtype": self.dtype,
                    "zett_tied_embeddings": "true" if self.tied_embeddings else "false"}
        write_safetensors(os.path.join(directory, "embeddings.safetensors"), tensors, metadata)
        with open(os.path.join(directory, "vocabulary.json"), "w", encoding="utf-8") as f:
            json.dump([t.as_dict() for t in self.vocabulary], f, ensure_ascii=False, indent=1)
            f.write("\n")

    def __repr__(self):
        shapes = ", ".join("%s%s" % (n, list(self._matrices.shapes[n]))
                           for n in self._matrices.names())
        return "TransferResult(model=%r, version=%d, dtype=%s, vocab=%d, %s)" % (
            self.model, self.version, self.dtype, len(self.vocabulary), shapes)


class StreamAssembler:
    """Checks and reassembles one Transfer stream as the C++ StreamAssembler does: one header
    first; vocabulary and row blocks contiguous and in order between header and trailer; block
    sizes consistent with shapes and dtype; every row and vocabulary entry present; and a
    trailer SHA-256 per matrix equal to the received bytes. Violations raise DataLossError."""

    def __init__(self):
        self.header = None
        self.trailer = None
        self.vocabulary = []
        self._data, self._shapes, self._next, self._hash = {}, {}, {}, {}
        self.rows_received = 0
        self.rows_expected = 0

    def add(self, message):
        part = message.WhichOneof("part")
        if part == "header":
            if self.header is not None:
                raise errors.DataLossError("stream: a second header")
            self.header = message.header
            self._dtype = _DTYPE_NAMES.get(self.header.dtype)
            if self._dtype is None:
                raise errors.DataLossError("header: unknown dtype %d" % self.header.dtype)
            width = _WIRE_NUMPY[self._dtype].itemsize
            for shape in self.header.shapes:
                if shape.matrix in self._shapes:
                    raise errors.DataLossError("header: %s listed twice" %
                                               pb.Matrix.Name(shape.matrix))
                self._shapes[shape.matrix] = (shape.rows, shape.cols)
                self._data[shape.matrix] = bytearray(shape.rows * shape.cols * width)
                self._next[shape.matrix] = 0
                self._hash[shape.matrix] = hashlib.sha256()
                self.rows_expected += shape.rows
        elif part == "vocabulary":
            if self.header is None or self.trailer is not None:
                raise errors.DataLossError("stream: vocabulary block outside header..trailer")
            block = message.vocabulary
            if block.first_id != len(self.vocabulary):
                raise errors.DataLossError("stream: vocabulary block at id %d, expected %d" %
                                           (block.first_id, len(self.vocabulary)))
            self.vocabulary.extend(Token(entry) for entry in block.tokens)
        elif part == "rows":
            if self.header is None or self.trailer is not None:
                raise errors.DataLossError("stream: row block outside header..trailer")
            block = message.rows
            if block.matrix not in self._shapes:
                raise errors.DataLossError("stream: rows of %s, which the header does not list" %
                                           _enum_name(pb.Matrix, block.matrix))
            rows, cols = self._shapes[block.matrix]
            width = _WIRE_NUMPY[self._dtype].itemsize
            start = self._next[block.matrix]
            expected = block.num_rows * cols * width
            if (block.first_row != start or start + block.num_rows > rows or
                    len(block.data) != expected):
                raise errors.DataLossError(
                    "stream: %s block at row %d (%d rows, %d bytes); expected row %d and %d bytes"
                    % (pb.Matrix.Name(block.matrix), block.first_row, block.num_rows,
                       len(block.data), start, expected))
            offset = start * cols * width
            self._data[block.matrix][offset:offset + expected] = block.data
            self._hash[block.matrix].update(block.data)
            self._next[block.matrix] = start + block.num_rows
            self.rows_received += block.num_rows
        elif part == "trailer":
            if self.header is None or self.trailer is not None:
                raise errors.DataLossError("stream: unexpected trailer")
            self.trailer = message.trailer
        else:
            raise errors.DataLossError("stream: empty message")

    def finish(self):
        if self.header is None or self.trailer is None:
            raise errors.DataLossError("stream: ended without header or trailer")
        if len(self.vocabulary) != self.header.vocab_size:
            raise errors.DataLossError("stream: %d vocabulary entries, header says %d" %
                                       (len(self.vocabulary), self.header.vocab_size))
        digests = {}
        for matrix, (rows, _) in self._shapes.items():
            name = pb.Matrix.Name(matrix)
            if self._next[matrix] != rows:
                raise errors.DataLossError("stream: %s has %d of %d rows" %
                                           (name, self._next[matrix], rows))
            actual = self._hash[matrix].digest()
            sums = [c.sha256 for c in self.trailer.checksums if c.matrix == matrix]
            if not sums:
                raise errors.DataLossError("checksum: the trailer has none for %s" % name)
            for expected in sums:
                if expected != actual:
                    raise errors.DataLossError("checksum: %s SHA-256 %s, trailer says %s" %
                                               (name, actual.hex(), expected.hex()))
            digests[matrix_name(matrix)] = actual.hex()
        matrices = _Matrices(self._dtype,
                             {matrix_name(m): s for m, s in self._shapes.items()},
                             {matrix_name(m): d for m, d in self._data.items()})
        return TransferResult(self.header, self.vocabulary, matrices, self.trailer, digests)


def _enum_name(enum, value):
    try:
        return enum.Name(value)
    except ValueError:
        return str(value)


class PredictResult(_MatrixView):
    """PredictTokens: one row per requested token, in request order."""

    def __init__(self, response):
        self.response = response
        self.vocabulary = [Token(t) for t in response.tokens]
        self.dtype = _DTYPE_NAMES.get(response.dtype, "fp32")
        width = _WIRE_NUMPY[self.dtype].itemsize
        shapes, data = {}, {}
        for shape in response.shapes:
            name = matrix_name(shape.matrix)
            shapes[name] = (shape.rows, shape.cols)
            data[name] = bytearray(shape.rows * shape.cols * width)
        for block in response.rows:
            name = matrix_name(block.matrix)
            if name not in shapes:
                raise errors.DataLossError("PredictTokens: rows of %s, not in shapes" % name)
            cols = shapes[name][1]
            offset = block.first_row * cols * width
            if offset + len(block.data) > len(data[name]):
                raise errors.DataLossError("PredictTokens: %s rows beyond the shape" % name)
            data[name][offset:offset + len(block.data)] = block.data
        self._matrices = _Matrices(self.dtype, shapes, data)


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _maybe_bytes(value):
    """bytes / str (file path) / None -> bytes or None."""
    if value is None or isinstance(value, (bytes, bytearray)):
        return value
    return _read(os.fspath(value))


def _options(dtype, matrices, special_tokens, language, rows_per_chunk, bypass_cache,
             compute_dtype):
    options = pb.TransferOptions(language=language or "", rows_per_chunk=rows_per_chunk or 0,
                                 bypass_cache=bool(bypass_cache))
    if dtype is not None:
        if dtype not in DTYPES:
            raise ValueError("dtype %r: one of %s" % (dtype, sorted(DTYPES)))
        options.dtype = DTYPES[dtype]
    if compute_dtype is not None:
        if compute_dtype not in DTYPES:
            raise ValueError("compute_dtype %r: one of %s" % (compute_dtype, sorted(DTYPES)))
        options.compute_dtype = DTYPES[compute_dtype]
    for name in matrices or ():
        if name not in _MATRIX_BY_NAME:
            raise ValueError("matrix %r: one of %s" % (name, sorted(_MATRIX_BY_NAME)))
        options.matrices.append(_MATRIX_BY_NAME[name])
    if special_tokens is not None:
        if special_tokens not in SPECIAL_TOKEN_POLICIES:
            raise ValueError("special_tokens %r: one of %s" %
                             (special_tokens, sorted(SPECIAL_TOKEN_POLICIES)))
        options.special_tokens = SPECIAL_TOKEN_POLICIES[special_tokens]
    return options


def _token_list(tokens, kind, special_tokens):
    if kind not in TOKEN_KINDS:
        raise ValueError("token kind %r: one of %s" % (kind, sorted(TOKEN_KINDS)))
    return pb.TokenList(tokens=list(tokens), kind=TOKEN_KINDS[kind],
                        special_tokens=list(special_tokens or ()))


def set_tokenizer(request, tokenizer, token_kind="byte_level", special_tokens=(),
                  tokenizer_config=None, special_tokens_map=None):
    """Fills the request's tokenizer the way the C++ client's SetTokenizerFromFile does.

    `tokenizer`: a path (*.json: tokenizer.json, with the tokenizer_config.json and
    special_tokens_map.json beside it; *.model: SentencePiece model; anything else: a token
    list, one token per line, of `token_kind`), tokenizer.json content as bytes, a parsed
    tokenizer.json dict, or a list of token strings of `token_kind`.
    """
    import json
    if isinstance(tokenizer, (bytes, bytearray)):
        request.tokenizer_json = bytes(tokenizer)
    elif isinstance(tokenizer, dict):
        request.tokenizer_json = json.dumps(tokenizer, ensure_ascii=False).encode("utf-8")
    elif isinstance(tokenizer, (list, tuple)):
        request.token_list.CopyFrom(_token_list(tokenizer, token_kind, special_tokens))
    elif isinstance(tokenizer, (str, os.PathLike)):
        path = os.fspath(tokenizer)
        data = _read(path)
        if path.endswith(".json") or path.endswith(".model"):
            if path.endswith(".json"):
                request.tokenizer_json = data
            else:
                request.sentencepiece_model = data
            folder = os.path.dirname(path)
            beside = os.path.join(folder, "tokenizer_config.json")
            if tokenizer_config is None and os.path.isfile(beside):
                tokenizer_config = beside
            beside = os.path.join(folder, "special_tokens_map.json")
            if special_tokens_map is None and os.path.isfile(beside):
                special_tokens_map = beside
        else:
            lines = [line for line in data.decode("utf-8").split("\n") if line]
            request.token_list.CopyFrom(_token_list(lines, token_kind, special_tokens))
    else:
        raise TypeError("tokenizer: a path, tokenizer.json bytes or dict, or a list of tokens; "
                        "got %s" % type(tokenizer).__name__)
    config = _maybe_bytes(tokenizer_config)
    if config is not None:
        request.tokenizer_config_json = config
    smap = _maybe_bytes(special_tokens_map)
    if smap is not None:
        request.special_tokens_map_json = smap


class Client:
    """A connection to zett-server.

        client = zett_client.Client("localhost:50051", token=None)
        result = client.transfer("default", "target/tokenizer.json", dtype="bf16")
        result.input_embeddings  # numpy [V, d]

    `token`: bearer token (or `token_file`, whose first line is it). TLS: `tls=True` with the
    system roots, or `root_certificates` (PEM bytes or a path; implies TLS), and optionally
    `private_key` + `certificate_chain` for client certificates. `timeout`: seconds per call
    (None: none). `options`: extra grpc channel options.
    """

    def __init__(self, address, token=None, *, token_file=None, tls=False, root_certificates=None,
                 private_key=None, certificate_chain=None, timeout=None, options=()):
        if not address:
            raise ValueError("address: empty")
        if token_file is not None:
            with open(token_file) as f:
                token = f.readline().strip()
        self.address = address
        self.timeout = timeout
        self._metadata = (("authorization", "Bearer " + token),) if token else None
        channel_options = [("grpc.max_receive_message_length", 64 << 20),
                           ("grpc.max_send_message_length", 256 << 20)] + list(options)
        if tls or root_certificates is not None or private_key is not None:
            credentials = grpc.ssl_channel_credentials(
                root_certificates=_maybe_bytes(root_certificates),
                private_key=_maybe_bytes(private_key),
                certificate_chain=_maybe_bytes(certificate_chain))
            self._channel = grpc.secure_channel(address, credentials, options=channel_options)
        else:
            self._channel = grpc.insecure_channel(address, options=channel_options)
        self._stub = pb_grpc.TokenizerTransferStub(self._channel)

    def close(self):
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _timeout(self, timeout):
        return self.timeout if timeout is None else timeout

    def _unary(self, method, request, timeout):
        try:
            return getattr(self._stub, method)(request, timeout=self._timeout(timeout),
                                               metadata=self._metadata)
        except grpc.RpcError as e:
            raise errors.from_rpc_error(e, method) from None

    def transfer(self, model, tokenizer, *, version=0, dtype=None, matrices=None,
                 special_tokens=None, language="", rows_per_chunk=0, bypass_cache=False,
                 compute_dtype=None, token_kind="byte_level", special_token_list=(),
                 tokenizer_config=None, special_tokens_map=None, timeout=None, progress=None):
        """Runs Transfer and returns the verified TransferResult.

        `tokenizer`: see `set_tokenizer` (path, bytes, dict or token list). `dtype`: "fp32"
        (server default), "bf16" or "fp16" on the wire. `matrices`: a subset of
        input_embeddings / output_embeddings / output_bias. `special_tokens`: "copy_original"
        (default) or "predict". `compute_dtype`: "fp32" for zett's fp32 numerics.
        `progress(rows_received, rows_expected)` is called after every row block.
        Raises a ZettError subclass carrying the status (DataLossError for a stream that fails
        the checks).
        """
        request = pb.TransferRequest(model=model, version=version,
                                     options=_options(dtype, matrices, special_tokens, language,
                                                      rows_per_chunk, bypass_cache, compute_dtype))
        set_tokenizer(request, tokenizer, token_kind, special_token_list, tokenizer_config,
                      special_tokens_map)
        return self.transfer_request(request, timeout=timeout, progress=progress)

    def transfer_request(self, request, *, timeout=None, progress=None):
        """Transfer with a ready zett.v1.TransferRequest."""
        assembler = StreamAssembler()
        call = self._stub.Transfer(request, timeout=self._timeout(timeout),
                                   metadata=self._metadata)
        try:
            for message in call:
                try:
                    assembler.add(message)
                except errors.DataLossError:
                    call.cancel()
                    raise
                if progress is not None and message.WhichOneof("part") == "rows":
                    progress(assembler.rows_received, assembler.rows_expected)
        except grpc.RpcError as e:
            raise errors.from_rpc_error(e, "Transfer") from None
        return assembler.finish()

    def predict_tokens(self, model, tokens, *, kind="byte_level", special_tokens=(), version=0,
                       dtype=None, matrices=None, special_token_policy=None, language="",
                       compute_dtype=None, timeout=None):
        """Embeddings of a short list of new tokens (PredictTokens) -> PredictResult."""
        request = pb.PredictTokensRequest(
            model=model, version=version, tokens=_token_list(tokens, kind, special_tokens),
            options=_options(dtype, matrices, special_token_policy, language, 0, False,
                             compute_dtype))
        return PredictResult(self._unary("PredictTokens", request, timeout))

    def list_models(self, *, timeout=None):
        """[zett.v1.ModelInfo] of every served model."""
        return list(self._unary("ListModels", pb.ListModelsRequest(), timeout).models)

    def get_model(self, model, *, timeout=None):
        """zett.v1.ModelInfo: versions and states, shapes, limits, the hypernet's config."""
        return self._unary("GetModel", pb.GetModelRequest(model=model), timeout)

    def health(self, service="", *, timeout=5.0):
        """grpc.health.v1.Health/Check: "SERVING", "NOT_SERVING" or "UNKNOWN"."""
        check = self._channel.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
            response_deserializer=health_pb2.HealthCheckResponse.FromString)
        try:
            response = check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        except grpc.RpcError as e:
            raise errors.from_rpc_error(e, "health") from None
        return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)

    def apply(self, model, tokenizer_json, base_dir, out_dir, *, load=True, force=False,
              tokenizer_config=None, dtype=None, **transfer_options):
        """Transfers `tokenizer_json` and writes a Hugging Face model folder (`zett apply`):
        the base model with the transferred embeddings, mapped to the target tokenizer's ids.
        Returns the transformers model (AutoModelForCausalLM) when `load`, else the summary.
        `dtype`: the stream's dtype; default: the base config's torch_dtype."""
        from . import model_folder as apply_module
        if load:
            apply_module.require_transformers()
        if dtype is None:
            dtype = apply_module.base_dtype(base_dir)
        result = self.transfer(model, tokenizer_json, dtype=dtype, **transfer_options)
        return apply_module.apply(result, tokenizer_json, base_dir, out_dir, load=load,
                                  force=force, tokenizer_config=tokenizer_config)
