#include "core/model/backbone.h"

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"

namespace zett {
namespace {

template <typename Module>
absl::Status Finish(Module& module, const TensorMap& tensors, const BackboneOptions& options,
                    const LoadStateDictOptions& load) {
  try {
    module->to(options.device, options.dtype);
    RETURN_IF_ERROR(LoadStateDict(*module, tensors, load));
    for (auto& p : module->parameters()) p.set_requires_grad(options.requires_grad);
    module->eval();
  } catch (const c10::Error& e) {
    return absl::InternalError(
        absl::StrCat("loading ", load.source, ": LibTorch error: ", e.what_without_backtrace()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<LlamaForCausalLM> MakeDecoder(const DecoderConfig& config, const TensorMap& tensors,
                                             const BackboneOptions& options,
                                             const std::string& source) {
  LlamaForCausalLM model(nullptr);
  try {
    model = LlamaForCausalLM(config);
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("building ", ArchitectureName(config.architecture),
                                            ": ", e.what_without_backtrace()));
  }
  LoadStateDictOptions load;
  load.source = source;
  RETURN_IF_ERROR(Finish(model, tensors, options, load));
  return model;
}

absl::StatusOr<XLMRobertaForMaskedLM> MakeEncoder(const EncoderConfig& config,
                                                  const TensorMap& tensors,
                                                  const BackboneOptions& options,
                                                  const std::string& source) {
  XLMRobertaForMaskedLM model(nullptr);
  try {
    model = XLMRobertaForMaskedLM(config);
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("building ", ArchitectureName(config.architecture),
                                            ": ", e.what_without_backtrace()));
  }
  LoadStateDictOptions load;
  load.source = source;
  // transformers ties lm_head.bias and lm_head.decoder.bias in some versions and stores only one
  // of the two names; take whichever the checkpoint has.
  load.fallback_names = {{"lm_head.bias", "lm_head.decoder.bias"},
                         {"lm_head.decoder.bias", "lm_head.bias"}};
  RETURN_IF_ERROR(Finish(model, tensors, options, load));
  return model;
}

absl::StatusOr<at::ScalarType> ParseDtype(const std::string& name) {
  if (name == "float32" || name == "fp32" || name == "float") return at::kFloat;
  if (name == "bfloat16" || name == "bf16") return at::kBFloat16;
  if (name == "float16" || name == "fp16" || name == "half") return at::kHalf;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown dtype '", name, "' (float32, bfloat16 or float16)"));
}

std::string DtypeName(at::ScalarType dtype) {
  switch (dtype) {
    case at::kBFloat16:
      return "bfloat16";
    case at::kHalf:
      return "float16";
    default:
      return "float32";
  }
}

}  // namespace zett
