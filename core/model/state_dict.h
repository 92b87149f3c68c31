// Moving weights between a module's named parameters and a name → tensor map (the contents of a
// safetensors checkpoint). Names are the module tree's dotted names, i.e. Hugging Face's.
#ifndef ZETT_CORE_MODEL_STATE_DICT_H_
#define ZETT_CORE_MODEL_STATE_DICT_H_

#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace zett {

// The same type as core/io/safetensors.h's TensorMap.
using TensorMap = std::map<std::string, at::Tensor>;

struct LoadStateDictOptions {
  // Names in the checkpoint that may stand in for a parameter name, e.g. {"lm_head.bias",
  // "lm_head.decoder.bias"} for RoBERTa checkpoints that store the MLM bias under the decoder.
  std::map<std::string, std::string> fallback_names;
  // Where the tensors came from, for error messages ("/models/llama/model.safetensors").
  std::string source = "checkpoint";
};

// Copies every parameter of `module` from `tensors` (converted to the parameter's dtype and
// device). INVALID_ARGUMENT when a parameter is missing or its shape differs, naming the
// parameter, both shapes and the source. Tensors the module has no use for (rotary caches,
// pooler, tied copies) are ignored and listed in `unused` when given.
absl::Status LoadStateDict(torch::nn::Module& module, const TensorMap& tensors,
                           const LoadStateDictOptions& options = {},
                           std::vector<std::string>* unused = nullptr);

// Every parameter of `module`, detached, on CPU, converted to `dtype`.
TensorMap StateDict(const torch::nn::Module& module, at::ScalarType dtype);

// "[4, 8]".
std::string ShapeString(at::IntArrayRef shape);

}  // namespace zett

#endif  // ZETT_CORE_MODEL_STATE_DICT_H_
