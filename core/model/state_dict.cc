#include "core/model/state_dict.h"

#include <c10/core/GradMode.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace zett {

std::string ShapeString(at::IntArrayRef shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

absl::Status LoadStateDict(torch::nn::Module& module, const TensorMap& tensors,
                           const LoadStateDictOptions& options, std::vector<std::string>* unused) {
  std::set<std::string> used;
  c10::NoGradGuard no_grad;
  for (auto& item : module.named_parameters(/*recurse=*/true)) {
    const std::string& name = item.key();
    at::Tensor& param = item.value();
    auto it = tensors.find(name);
    if (it == tensors.end()) {
      auto fallback = options.fallback_names.find(name);
      if (fallback != options.fallback_names.end()) it = tensors.find(fallback->second);
    }
    if (it == tensors.end()) {
      return absl::InvalidArgumentError(absl::StrCat(options.source, " lacks tensor '", name,
                                                     "' (expected shape ",
                                                     ShapeString(param.sizes()), ")"));
    }
    if (!it->second.sizes().equals(param.sizes())) {
      return absl::InvalidArgumentError(absl::StrCat(
          options.source, ": tensor '", it->first, "' has shape ", ShapeString(it->second.sizes()),
          " but the config expects ", ShapeString(param.sizes())));
    }
    if (!at::isFloatingType(it->second.scalar_type())) {
      return absl::InvalidArgumentError(absl::StrCat(options.source, ": tensor '", it->first,
                                                     "' is not floating point (",
                                                     c10::toString(it->second.scalar_type()), ")"));
    }
    param.copy_(it->second.to(param.device(), param.scalar_type()));
    used.insert(it->first);
  }
  if (unused != nullptr) {
    unused->clear();
    for (const auto& [name, tensor] : tensors) {
      if (!used.count(name)) unused->push_back(name);
    }
  }
  return absl::OkStatus();
}

TensorMap StateDict(const torch::nn::Module& module, at::ScalarType dtype) {
  TensorMap out;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) {
    out[item.key()] = item.value().detach().to(at::kCPU, dtype).contiguous();
  }
  return out;
}

}  // namespace zett
