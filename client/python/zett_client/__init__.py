"""zett_client: the Python client of zett.v1 (zero-shot tokenizer transfer).

    import zett_client
    client = zett_client.Client("localhost:50051")
    result = client.transfer("default", "target/tokenizer.json")   # TransferResult
    result.input_embeddings                                         # numpy [V, d]
    result.as_torch()                                               # {name: torch.Tensor}
    model = client.apply("default", "target/tokenizer.json", "models/base-lm", "applied/")
"""
from .client import (Client, PredictResult, StreamAssembler, Token, TransferResult,
                     bf16_to_float32, set_tokenizer)
from .errors import (DataLossError, DeadlineExceededError, FailedPreconditionError,
                     InternalError, InvalidArgumentError, NotFoundError, PermissionDeniedError,
                     ResourceExhaustedError, UnauthenticatedError, UnavailableError,
                     UnimplementedError, ZettError)
from .model_folder import ApplyError, apply, write_model
from ._proto.zett.v1 import zett_pb2 as pb

__version__ = "0.1.0"

__all__ = ["Client", "TransferResult", "PredictResult", "StreamAssembler", "Token",
           "bf16_to_float32", "set_tokenizer", "apply", "write_model", "ApplyError", "pb",
           "ZettError", "DataLossError", "DeadlineExceededError", "FailedPreconditionError",
           "InternalError", "InvalidArgumentError", "NotFoundError", "PermissionDeniedError",
           "ResourceExhaustedError", "UnauthenticatedError", "UnavailableError",
           "UnimplementedError"]
