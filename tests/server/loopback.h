// Test harness: a ZettServer on 127.0.0.1 (free port) over a temporary model repository of
// DeterministicTestModel versions, a channel and stub to it, stream reassembly, a grpc.health.v1
// probe (stubs generated from proto/grpc/health/v1/health.proto), and a raw-bytes probe of server
// reflection (Debian ships neither its .proto nor its generated client stubs, so that one speaks
// the wire format through grpc::GenericStub).
#ifndef ZETT_TESTS_SERVER_LOOPBACK_H_
#define ZETT_TESTS_SERVER_LOOPBACK_H_

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "proto/zett/v1/zett.grpc.pb.h"
#include "server/zett_server.h"
#include "tests/server/deterministic_test_model.h"

namespace zett::testing {

class LoopbackServer {
 public:
  // Starts on `root`; waits for loading unless a gate holds the loader or !wait_until_loaded
  // (to watch readiness and shutdown while versions load).
  LoopbackServer(const std::string& root, server::ServerOptions options = {},
                 absl::Notification* gate = nullptr, bool wait_until_loaded = true);
  ~LoopbackServer();

  server::ZettServer& server() { return *server_; }
  const DeterministicTestLoader& loader() const { return *loader_; }
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  v1::TokenizerTransfer::Stub& stub() { return *stub_; }

 private:
  std::shared_ptr<DeterministicTestLoader> loader_;
  std::unique_ptr<server::ZettServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::TokenizerTransfer::Stub> stub_;
};

// A reassembled Transfer stream.
struct StreamedTransfer {
  grpc::Status status;
  bool has_header = false;
  v1::TransferHeader header;
  std::vector<v1::TokenEntry> vocabulary;
  std::map<v1::Matrix, std::string> matrices;  // [rows, cols] bytes, blocks placed by first_row
  bool has_trailer = false;
  v1::TransferTrailer trailer;
  size_t largest_message_bytes = 0;
  std::string order_error;  // non-empty when parts came out of order or overlapping
};

StreamedTransfer RunTransfer(v1::TokenizerTransfer::Stub& stub, const v1::TransferRequest& request,
                             grpc::ClientContext* context);

// grpc.health.v1.Health/Check: 1 SERVING, 2 NOT_SERVING, 0 UNKNOWN; -code on an RPC error.
int HealthCheck(const std::shared_ptr<grpc::Channel>& channel, const std::string& service);

// One call of `method` ("/package.Service/Method") with `body` as its only request message,
// bytes as given (no proto in between), through the generic stub: its status and its first
// reply message (empty when there was none).
struct RawCallResult {
  grpc::Status status;
  std::optional<std::string> first_reply;
};
RawCallResult RawCall(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                      const std::string& body, const std::string& bearer_token = "");

// grpc.reflection.v1alpha list_services.
std::vector<std::string> ReflectionServices(const std::shared_ptr<grpc::Channel>& channel);

// A token-list request for `model` with byte-level tokens "t0", "t1", ...
v1::TransferRequest TokenListRequest(const std::string& model, int num_tokens);

// What the engine computes in-process for the same request (Prepare + one Predict), per matrix.
std::map<v1::Matrix, std::string> InProcessRows(const server::LoadedModel& model,
                                                const v1::TransferRequest& request, v1::DType dtype,
                                                const std::vector<v1::Matrix>& matrices);

}  // namespace zett::testing

#endif  // ZETT_TESTS_SERVER_LOOPBACK_H_
