#include "core/model/pretrained.h"

#include "absl/strings/str_cat.h"
#include "core/io/json_file.h"
#include "core/io/safetensors.h"
#include "core/util/status_macros.h"

namespace zett {

at::Tensor PretrainedBackbone::Logits(const at::Tensor& input_ids,
                                      const at::Tensor& attention_mask) {
  if (decoder) {
    DecoderInputs in;
    in.input_ids = input_ids;
    in.attention_mask = attention_mask;
    return decoder(in);
  }
  EncoderInputs in;
  in.input_ids = input_ids;
  in.attention_mask = attention_mask;
  return encoder(in);
}

absl::StatusOr<PretrainedBackbone> LoadPretrainedBackbone(const std::string& dir,
                                                          const BackboneOptions& options) {
  PretrainedBackbone out;
  const std::string config_path = dir + "/config.json";
  ASSIGN_OR_RETURN(out.config_json, ReadJsonFile(config_path));
  auto architecture = ArchitectureFromConfig(out.config_json);
  if (!architecture.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(config_path, ": ", architecture.status().message()));
  }
  out.architecture = *architecture;
  ASSIGN_OR_RETURN(TensorMap tensors, ReadSafetensorsDir(dir));
  const std::string source = absl::StrCat("checkpoint ", dir);
  if (IsDecoder(out.architecture)) {
    auto config = ParseDecoderConfig(out.config_json);
    if (!config.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(config_path, ": ", config.status().message()));
    }
    ASSIGN_OR_RETURN(out.decoder, MakeDecoder(*config, tensors, options, source));
  } else {
    auto config = ParseEncoderConfig(out.config_json);
    if (!config.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(config_path, ": ", config.status().message()));
    }
    ASSIGN_OR_RETURN(out.encoder, MakeEncoder(*config, tensors, options, source));
  }
  return out;
}

}  // namespace zett
