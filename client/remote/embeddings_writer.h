// Writes a verified TransferResult where users load it:
//   <dir>/embeddings.safetensors  input_embeddings [V, d], output_embeddings [V, d] (untied
//                                 only), output_bias [V] (when predicted), in the stream's dtype;
//                                 metadata: model, version, dtype, tied_embeddings
//   <dir>/vocabulary.json         [{"id", "token", "special", "truncated", "added", "copied"}...]
#ifndef ZETT_CLIENT_REMOTE_EMBEDDINGS_WRITER_H_
#define ZETT_CLIENT_REMOTE_EMBEDDINGS_WRITER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/remote/transfer_client.h"
#include "core/io/safetensors.h"

namespace zett::client {

inline constexpr char kEmbeddingsFile[] = "embeddings.safetensors";
inline constexpr char kVocabularyFile[] = "vocabulary.json";

// The matrices of `result` as CPU tensors named by wire::TensorName, in the stream's
// dtype (the bytes copied).
absl::StatusOr<TensorMap> TransferTensors(const TransferResult& result);

// Creates `dir` if needed and writes both files.
absl::Status WriteTransferResult(const std::string& dir, const TransferResult& result);

}  // namespace zett::client

#endif  // ZETT_CLIENT_REMOTE_EMBEDDINGS_WRITER_H_
