// `zett-train pretrain --init_from=DIR`: training starts from an existing Hugging Face folder's
// weights (fine-tuning, e.g. the bundled base LM on one domain) instead of a random init. The
// folder must hold the model the flags describe, trained with the same tokenizer.
#ifndef ZETT_CORE_TRAIN_INIT_FROM_H_
#define ZETT_CORE_TRAIN_INIT_FROM_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/model/hf_config.h"
#include "core/model/llama.h"

namespace zett {

// `config` (from the flags and the tokenizer) checked against `dir`/config.json: InvalidArgument
// naming the field, both values and the flag when the architecture is not Llama or a shape field
// (vocab_size, hidden_size, intermediate_size, layers, heads, head_dim, tied head) or rope_theta
// differs. Returns `config` with the folder's max_position_embeddings where that is longer.
absl::StatusOr<DecoderConfig> CheckInitConfig(const std::string& dir, const DecoderConfig& config);

// InvalidArgument when `dir` holds a tokenizer.model whose bytes differ from `tokenizer_dir`'s.
absl::Status CheckInitTokenizer(const std::string& dir, const std::string& tokenizer_dir);

// Copies `dir`'s safetensors weights into `model` (converted to its dtype); InvalidArgument
// naming the tensor and both shapes when one is missing or shaped differently.
absl::Status LoadInitWeights(const std::string& dir, LlamaForCausalLM& model);

}  // namespace zett

#endif  // ZETT_CORE_TRAIN_INIT_FROM_H_
