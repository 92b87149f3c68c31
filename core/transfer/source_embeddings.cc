#include "core/transfer/source_embeddings.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "core/io/json_file.h"
#include "core/io/safetensors.h"
#include "core/util/status_macros.h"

namespace zett {

absl::StatusOr<EmbeddingTensorNames> EmbeddingTensorNamesFor(const std::string& architecture) {
  if (architecture == "LlamaForCausalLM" || architecture == "MistralForCausalLM" ||
      architecture == "Qwen2ForCausalLM") {
    return EmbeddingTensorNames{"model.embed_tokens.weight", "lm_head.weight", ""};
  }
  if (architecture == "XLMRobertaForMaskedLM" || architecture == "RobertaForMaskedLM") {
    return EmbeddingTensorNames{"roberta.embeddings.word_embeddings.weight",
                                "lm_head.decoder.weight", "lm_head.bias"};
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unsupported base architecture \"", architecture, "\""));
}

at::Tensor SourceEmbeddings::Stacked() const {
  return tied() ? input : at::cat({input, output}, /*dim=*/1);
}

absl::StatusOr<SourceEmbeddings> LoadSourceEmbeddings(const std::string& dir) {
  const std::string config_path = (std::filesystem::path(dir) / "config.json").string();
  ASSIGN_OR_RETURN(nlohmann::json config, ReadJsonFile(config_path));
  if (!config.contains("architectures") || !config["architectures"].is_array() ||
      config["architectures"].empty() || !config["architectures"][0].is_string()) {
    return absl::InvalidArgumentError(absl::StrCat(config_path, ": no architectures[0]"));
  }
  SourceEmbeddings result;
  result.architecture = config["architectures"][0].get<std::string>();
  ASSIGN_OR_RETURN(EmbeddingTensorNames names, EmbeddingTensorNamesFor(result.architecture));
  // HF's default is tied; an explicit output matrix in the checkpoint wins only when untied.
  const bool tie = config.value("tie_word_embeddings", true);
  ASSIGN_OR_RETURN(TensorMap tensors, ReadSafetensorsDir(dir));
  auto input = tensors.find(names.input);
  if (input == tensors.end()) {
    return absl::NotFoundError(absl::StrCat(dir, ": no tensor \"", names.input, "\""));
  }
  result.input = input->second;
  if (result.input.dim() != 2) {
    return absl::InvalidArgumentError(absl::StrCat(dir, ": \"", names.input, "\" is not 2-D"));
  }
  if (!tie) {
    auto output = tensors.find(names.output);
    if (output == tensors.end()) {
      return absl::NotFoundError(absl::StrCat(
          dir, ": tie_word_embeddings is false but there is no \"", names.output, "\""));
    }
    if (output->second.sizes() != result.input.sizes()) {
      return absl::InvalidArgumentError(
          absl::StrCat(dir, ": \"", names.output, "\" and \"", names.input, "\" differ in shape"));
    }
    result.output = output->second;
  }
  if (!names.output_bias.empty()) {
    auto bias = tensors.find(names.output_bias);
    if (bias != tensors.end()) result.output_bias = bias->second;
  }
  return result;
}

}  // namespace zett
