// The one place where absl::Status codes become gRPC status codes (and back, for clients), and
// where codes get the names used as Prometheus label values.
#ifndef ZETT_PROTO_WIRE_STATUS_MAPPING_H_
#define ZETT_PROTO_WIRE_STATUS_MAPPING_H_

#include <grpcpp/support/status.h>

#include <string>

#include "absl/status/status.h"

namespace zett::wire {

// Same code (the canonical codes coincide numerically), same message.
grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

// "OK", "INVALID_ARGUMENT", ... as in the gRPC spec.
std::string GrpcCodeName(grpc::StatusCode code);

}  // namespace zett::wire

#endif  // ZETT_PROTO_WIRE_STATUS_MAPPING_H_
