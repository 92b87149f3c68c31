// The base model's embedding matrices, read by their Hugging Face names without building the
// whole backbone: a transfer needs only the source embeddings (and the special-token rows).
#ifndef ZETT_CORE_TRANSFER_SOURCE_EMBEDDINGS_H_
#define ZETT_CORE_TRANSFER_SOURCE_EMBEDDINGS_H_

#include <ATen/ATen.h>

#include <string>

#include "absl/status/statusor.h"

namespace zett {

struct SourceEmbeddings {
  std::string architecture;  // config.json architectures[0]
  at::Tensor input;          // [V, d]
  at::Tensor output;         // [V, d]; undefined when the model ties input and output
  at::Tensor output_bias;    // [V];    defined only where the LM head has a bias (XLM-R)

  bool tied() const { return !output.defined(); }
  int64_t vocab_size() const { return input.size(0); }
  int64_t hidden_size() const { return input.size(1); }
  // The hypernetwork's source table: [E_in | E_out] ([V, 2d]) when untied, E_in when tied.
  at::Tensor Stacked() const;
};

// Hugging Face tensor names of the embedding matrices of a base architecture
// (config.json's architectures[0]); `output_bias` is "" where the architecture has none.
struct EmbeddingTensorNames {
  std::string input;
  std::string output;
  std::string output_bias;
};
absl::StatusOr<EmbeddingTensorNames> EmbeddingTensorNamesFor(const std::string& architecture);

// Reads `dir`/config.json and the safetensors weights (single file or sharded). Supports the
// Llama family (model.embed_tokens / lm_head) and XLM-R / RoBERTa (roberta.embeddings.
// word_embeddings / lm_head.decoder / lm_head.bias). Tensors stay in their stored dtype on CPU.
absl::StatusOr<SourceEmbeddings> LoadSourceEmbeddings(const std::string& dir);

}  // namespace zett

#endif  // ZETT_CORE_TRANSFER_SOURCE_EMBEDDINGS_H_
