// C++ client of zett.v1: channel set-up (TLS, bearer token), Transfer with stream reassembly and
// checksum verification, ListModels / GetModel / PredictTokens. Health checks: health_check.h.
#ifndef ZETT_CLIENT_REMOTE_TRANSFER_CLIENT_H_
#define ZETT_CLIENT_REMOTE_TRANSFER_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/io/sha256.h"
#include "proto/zett/v1/zett.grpc.pb.h"

namespace zett::client {

struct ClientOptions {
  std::string address;       // host:port
  std::string bearer_token;  // sent as "authorization: Bearer <token>" when non-empty
  std::string tls_ca_file;   // PEM roots; non-empty turns TLS on
  absl::Duration timeout = absl::InfiniteDuration();  // per call
};

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const ClientOptions& options);

// One matrix, reassembled: rows × cols values of the stream's dtype, raw little-endian.
struct MatrixData {
  uint64_t rows = 0;
  uint64_t cols = 0;
  std::string bytes;
};

struct TransferResult {
  v1::TransferHeader header;
  std::vector<v1::TokenEntry> vocabulary;  // id order
  std::map<v1::Matrix, MatrixData> matrices;
  v1::TransferTrailer trailer;
};

// Checks and reassembles the parts of one Transfer stream: one header first, vocabulary blocks
// and row blocks contiguous and in order, block sizes consistent with shapes and dtype, then a
// trailer whose SHA-256 per matrix matches the received bytes (DATA_LOSS otherwise).
class StreamAssembler {
 public:
  absl::Status Add(const v1::TransferResponse& message);
  // After the trailer: every row and every vocabulary entry present.
  absl::StatusOr<TransferResult> Finish();

  uint64_t rows_received() const { return rows_received_; }
  uint64_t rows_expected() const { return rows_expected_; }

 private:
  bool has_header_ = false;
  bool has_trailer_ = false;
  TransferResult result_;
  std::map<v1::Matrix, uint64_t> next_row_;
  // Hashed as the blocks arrive, so that verifying the trailer costs nothing at the end.
  // Declared after result_: destroyed (and so done reading its bytes) before them.
  std::map<v1::Matrix, std::unique_ptr<io::BackgroundSha256>> hashes_;
  uint64_t rows_received_ = 0;
  uint64_t rows_expected_ = 0;
};

using ProgressCallback = std::function<void(uint64_t rows_received, uint64_t rows_expected)>;

class TransferClient {
 public:
  TransferClient(std::shared_ptr<grpc::Channel> channel, ClientOptions options);

  // Runs Transfer and returns the verified result. Server errors keep their code; the message
  // starts with "Transfer: ".
  absl::StatusOr<TransferResult> Transfer(const v1::TransferRequest& request,
                                          const ProgressCallback& progress = nullptr);
  absl::StatusOr<v1::ListModelsResponse> ListModels();
  absl::StatusOr<v1::ModelInfo> GetModel(const std::string& model);
  absl::StatusOr<v1::PredictTokensResponse> PredictTokens(const v1::PredictTokensRequest& request);

 private:
  void Prepare(grpc::ClientContext* context) const;

  std::shared_ptr<grpc::Channel> channel_;
  ClientOptions options_;
  std::unique_ptr<v1::TokenizerTransfer::Stub> stub_;
};

// Reads a tokenizer file into a request: *.json → tokenizer_json, *.model → sentencepiece_model,
// anything else → a token list, one token per line, of `list_kind`.
absl::Status SetTokenizerFromFile(const std::string& path, v1::TokenKind list_kind,
                                  v1::TransferRequest* request);

}  // namespace zett::client

#endif  // ZETT_CLIENT_REMOTE_TRANSFER_CLIENT_H_
