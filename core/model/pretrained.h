// Loading a backbone from a Hugging Face model folder: config.json + model.safetensors (or the
// shards of model.safetensors.index.json).
#ifndef ZETT_CORE_MODEL_PRETRAINED_H_
#define ZETT_CORE_MODEL_PRETRAINED_H_

#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/statusor.h"
#include "core/model/backbone.h"

namespace zett {

// One of the two backbone kinds, with the config it was built from.
struct PretrainedBackbone {
  Architecture architecture = Architecture::kLlama;
  nlohmann::json config_json;
  LlamaForCausalLM decoder{nullptr};       // set for Llama / Mistral / Qwen2
  XLMRobertaForMaskedLM encoder{nullptr};  // set for XLM-R / RoBERTa

  // input_ids [B, T] int64, attention_mask [B, T] or undefined → logits [B, T, V].
  at::Tensor Logits(const at::Tensor& input_ids, const at::Tensor& attention_mask);
};

// Errors name the folder and the file: missing config.json, unsupported architecture,
// missing or mis-shaped tensors.
absl::StatusOr<PretrainedBackbone> LoadPretrainedBackbone(const std::string& dir,
                                                          const BackboneOptions& options);

}  // namespace zett

#endif  // ZETT_CORE_MODEL_PRETRAINED_H_
