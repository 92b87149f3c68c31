// The seam between the gRPC server and the model-specific work (core/tokenizer + core/hypernet).
//
// The server never looks inside a model: a ModelLoader turns a verified version directory into a
// LoadedModel, whose Prepare() runs on CPU threads (parse the target tokenizer, convert to byte
// level, decompose every token with the original tokenizer) and whose Predict() runs on the one
// predict queue (the GPU), for rows that may come from several concurrent requests at once.
#ifndef ZETT_SERVER_TRANSFER_ENGINE_H_
#define ZETT_SERVER_TRANSFER_ENGINE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/zett/v1/zett.pb.h"

namespace zett::server {

// What ModelInfo reports; fixed for the lifetime of a LoadedModel.
struct ModelMetadata {
  std::string architecture;  // e.g. "LlamaForCausalLM"
  uint64_t hidden_size = 0;  // d: columns of the embedding matrices
  uint64_t original_vocab_size = 0;
  bool tied_embeddings = false;
  bool predicts_bias = false;
  uint32_t surface_maxlen = 0;         // L: decomposition length (hn_surface_maxlen)
  std::vector<std::string> languages;  // empty: not a multilingual hypernet
  std::string compute_dtype;           // "bf16" / "fp32"; empty when not applicable
  std::string hypernet_config_json;    // the hypernetwork's config.json
};

// The target tokenizer as the client sent it.
struct TokenizerInput {
  enum class Format { kTokenizerJson, kSentencePieceModel, kTokenList };
  Format format = Format::kTokenList;
  std::string bytes;                // tokenizer.json text or SentencePiece ModelProto bytes
  std::vector<std::string> tokens;  // kTokenList only
  v1::TokenKind token_kind = v1::TOKEN_KIND_UNSPECIFIED;
  std::vector<std::string> special_tokens;
  // tokenizer_config.json / special_tokens_map.json sent with a tokenizer file; empty: absent.
  std::string tokenizer_config_json;
  std::string special_tokens_map_json;
};

struct PrepareOptions {
  v1::SpecialTokenPolicy special_tokens = v1::SPECIAL_TOKEN_POLICY_COPY_ORIGINAL;
  int32_t language_id = -1;   // index into ModelMetadata::languages; -1: none
  bool fp32_compute = false;  // options.compute_dtype = FP32
  // The request's cancellation and deadline: Prepare polls it between its phases and every
  // ~1k tokens of a decomposition, and returns its first non-OK status (CANCELLED,
  // DEADLINE_EXCEEDED) unchanged, with no result. Empty: never interrupted.
  std::function<absl::Status()> interrupt;
};

// One entry of the final id→token table (ids are positions).
struct TokenInfo {
  std::string token;  // byte-level surface form
  bool special = false;
  bool truncated = false;
  bool added = false;
  bool copied = false;
};

// The CPU-side result of a request: everything Predict needs, independent of other requests.
struct PreparedTransfer {
  std::vector<TokenInfo> vocabulary;    // V entries
  uint32_t surface_maxlen = 0;          // L
  std::vector<int32_t> decomposition;   // [V, L] row-major original-model ids, padded
  std::vector<int32_t> copy_source_id;  // [V]: original id whose rows are copied, or -1
  int32_t language_id = -1;
  bool fp32_compute = false;  // the request asked for fp32 arithmetic
  double parse_seconds = 0;
  double decompose_seconds = 0;

  uint64_t num_rows() const { return vocabulary.size(); }
};

// Rows from one or more PreparedTransfers of the same model, dtype, matrices and language,
// concatenated in queue order.
struct RowBatch {
  uint64_t num_rows = 0;
  uint32_t surface_maxlen = 0;
  std::vector<int32_t> decomposition;   // [num_rows, surface_maxlen]
  std::vector<int32_t> copy_source_id;  // [num_rows]
  int32_t language_id = -1;
  bool fp32_compute = false;
  v1::DType dtype = v1::DTYPE_FP32;  // resolved (never UNSPECIFIED)
  std::vector<v1::Matrix> matrices;  // which outputs, in this order
};

// data[i] holds matrices[i] as [num_rows, cols] raw little-endian values in the batch's dtype.
struct RowBatchOutput {
  std::vector<std::string> data;
};

class LoadedModel {
 public:
  virtual ~LoadedModel() = default;

  virtual const ModelMetadata& metadata() const = 0;

  // CPU work for one request. INVALID_ARGUMENT says what is wrong and where (e.g. "tokenizer_json:
  // model.vocab: expected an object at byte 1234"); options.interrupt's status when it stops the
  // work. Must be thread-safe.
  virtual absl::StatusOr<PreparedTransfer> Prepare(const TokenizerInput& input,
                                                   const PrepareOptions& options) const = 0;

  // Device work; called from the single predict-queue thread only.
  virtual absl::StatusOr<RowBatchOutput> Predict(const RowBatch& batch) const = 0;

  // Bytes of device memory held by this model (weights, caches); 0 where unknown.
  virtual uint64_t device_memory_bytes() const { return 0; }
};

class ModelLoader {
 public:
  virtual ~ModelLoader() = default;
  // `version_dir` has passed manifest verification. Errors become the version's FAILED reason.
  virtual absl::StatusOr<std::shared_ptr<const LoadedModel>> Load(
      const std::string& model_name, int64_t version, const std::string& version_dir) const = 0;
};

// Matrices a model produces, in wire order: input embeddings, output embeddings unless tied,
// output bias when predicted.
std::vector<v1::Matrix> AvailableMatrices(const ModelMetadata& metadata);

// Columns of `matrix`: hidden_size for embeddings, 1 for the bias.
uint64_t MatrixCols(const ModelMetadata& metadata, v1::Matrix matrix);

}  // namespace zett::server

#endif  // ZETT_SERVER_TRANSFER_ENGINE_H_
