"""Exceptions of zett_client: one per gRPC status code, each carrying the status."""
import grpc


class ZettError(Exception):
    """A failed zett.v1 call. `code` is the grpc.StatusCode, `details` the server's message."""

    code = grpc.StatusCode.UNKNOWN

    def __init__(self, details, code=None, method=None):
        if code is not None:
            self.code = code
        self.details = details
        self.method = method
        prefix = "%s: " % method if method else ""
        super().__init__("%s%s: %s" % (prefix, self.code.name, details))


def _subclass(name, code, doc):
    return type(name, (ZettError,), {"code": code, "__doc__": doc})


InvalidArgumentError = _subclass("InvalidArgumentError", grpc.StatusCode.INVALID_ARGUMENT,
                                 "The request is malformed (e.g. a tokenizer that does not parse).")
NotFoundError = _subclass("NotFoundError", grpc.StatusCode.NOT_FOUND,
                          "Unknown model or version.")
ResourceExhaustedError = _subclass("ResourceExhaustedError", grpc.StatusCode.RESOURCE_EXHAUSTED,
                                   "A server limit was hit (request size, vocabulary, load).")
FailedPreconditionError = _subclass("FailedPreconditionError", grpc.StatusCode.FAILED_PRECONDITION,
                                    "The model is not in a state to serve (e.g. still loading).")
UnauthenticatedError = _subclass("UnauthenticatedError", grpc.StatusCode.UNAUTHENTICATED,
                                 "Missing or wrong bearer token.")
PermissionDeniedError = _subclass("PermissionDeniedError", grpc.StatusCode.PERMISSION_DENIED,
                                  "The caller may not do this.")
UnavailableError = _subclass("UnavailableError", grpc.StatusCode.UNAVAILABLE,
                             "The server cannot be reached or is draining.")
DeadlineExceededError = _subclass("DeadlineExceededError", grpc.StatusCode.DEADLINE_EXCEEDED,
                                  "The call ran past its timeout.")
UnimplementedError = _subclass("UnimplementedError", grpc.StatusCode.UNIMPLEMENTED,
                               "The server does not support this.")
InternalError = _subclass("InternalError", grpc.StatusCode.INTERNAL, "A server-side failure.")
DataLossError = _subclass("DataLossError", grpc.StatusCode.DATA_LOSS,
                          "The stream is inconsistent: out-of-order blocks, missing rows or a "
                          "SHA-256 that does not match the trailer (checked by this client).")

_BY_CODE = {cls.code: cls for cls in (
    InvalidArgumentError, NotFoundError, ResourceExhaustedError, FailedPreconditionError,
    UnauthenticatedError, PermissionDeniedError, UnavailableError, DeadlineExceededError,
    UnimplementedError, InternalError, DataLossError)}


def from_rpc_error(error, method=None):
    """The ZettError subclass for a grpc.RpcError (its code and details kept)."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    details = error.details() if hasattr(error, "details") else str(error)
    cls = _BY_CODE.get(code, ZettError)
    return cls(details or "", code=code, method=method)
