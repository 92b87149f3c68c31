// `zett health`'s call: grpc.health.v1.Health/Check through the stubs generated from
// proto/grpc/health/v1/health.proto.
#ifndef ZETT_CLIENT_REMOTE_HEALTH_CHECK_H_
#define ZETT_CLIENT_REMOTE_HEALTH_CHECK_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace zett::client {

// The values of grpc.health.v1.HealthCheckResponse.ServingStatus that Check returns.
enum class HealthStatus { kUnknown = 0, kServing = 1, kNotServing = 2 };

// Health/Check for `service` ("" = the whole server). NOT_FOUND for an unknown service; other
// RPC errors keep their code, the message prefixed with "health: ".
absl::StatusOr<HealthStatus> CheckHealth(const std::shared_ptr<grpc::Channel>& channel,
                                         const std::string& service, absl::Duration timeout);

}  // namespace zett::client

#endif  // ZETT_CLIENT_REMOTE_HEALTH_CHECK_H_
