// Building a backbone from a parsed config and a name → tensor map, on a device and in a dtype.
// This is the boundary where LibTorch exceptions become absl::Status.
#ifndef ZETT_CORE_MODEL_BACKBONE_H_
#define ZETT_CORE_MODEL_BACKBONE_H_

#include <string>

#include "absl/status/statusor.h"
#include "core/model/hf_config.h"
#include "core/model/llama.h"
#include "core/model/state_dict.h"
#include "core/model/xlm_roberta.h"

namespace zett {

// Where and how a backbone runs. `requires_grad` false freezes every backbone parameter
// (the usual case: hypernetwork training only sends gradients into supplied embeddings).
struct BackboneOptions {
  at::Device device = at::kCPU;
  at::ScalarType dtype = at::kFloat;
  bool requires_grad = false;
};

absl::StatusOr<LlamaForCausalLM> MakeDecoder(const DecoderConfig& config, const TensorMap& tensors,
                                             const BackboneOptions& options,
                                             const std::string& source = "checkpoint");

absl::StatusOr<XLMRobertaForMaskedLM> MakeEncoder(const EncoderConfig& config,
                                                  const TensorMap& tensors,
                                                  const BackboneOptions& options,
                                                  const std::string& source = "checkpoint");

// "float32" / "bfloat16" / "float16" (config.json's torch_dtype spelling, also "fp32", "bf16").
absl::StatusOr<at::ScalarType> ParseDtype(const std::string& name);
std::string DtypeName(at::ScalarType dtype);  // → "float32", "bfloat16", "float16"

}  // namespace zett

#endif  // ZETT_CORE_MODEL_BACKBONE_H_
