#include "core/train/init_from.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "core/io/json_file.h"
#include "core/io/safetensors.h"
#include "core/model/state_dict.h"
#include "core/util/status_macros.h"

namespace zett {
namespace {

namespace fs = std::filesystem;

template <typename T>
absl::Status SameField(const std::string& dir, const char* field, const char* flag, T in_folder,
                       T in_flags) {
  if (in_folder == in_flags) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("--init_from=", dir, ": ", field, " is ",
                                                 in_folder, " in its config.json but ", in_flags,
                                                 " here (", flag, ")"));
}

}  // namespace

absl::StatusOr<DecoderConfig> CheckInitConfig(const std::string& dir, const DecoderConfig& config) {
  const std::string path = (fs::path(dir) / "config.json").string();
  ASSIGN_OR_RETURN(const nlohmann::json json, ReadJsonFile(path));
  absl::StatusOr<DecoderConfig> parsed = ParseDecoderConfig(json);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--init_from: ", path, ": ", parsed.status().message()));
  }
  const DecoderConfig& f = *parsed;
  if (f.architecture != Architecture::kLlama) {
    return absl::InvalidArgumentError(
        absl::StrCat("--init_from=", dir, ": pretrain trains Llama models, the folder holds ",
                     ArchitectureName(f.architecture)));
  }
  RETURN_IF_ERROR(SameField(dir, "vocab_size", "--tokenizer_dir's tokenizer.model", f.vocab_size,
                            config.vocab_size));
  RETURN_IF_ERROR(
      SameField(dir, "hidden_size", "--hidden_size", f.hidden_size, config.hidden_size));
  RETURN_IF_ERROR(SameField(dir, "intermediate_size", "--intermediate_size", f.intermediate_size,
                            config.intermediate_size));
  RETURN_IF_ERROR(SameField(dir, "num_hidden_layers", "--num_hidden_layers", f.num_hidden_layers,
                            config.num_hidden_layers));
  RETURN_IF_ERROR(SameField(dir, "num_attention_heads", "--num_attention_heads",
                            f.num_attention_heads, config.num_attention_heads));
  RETURN_IF_ERROR(SameField(dir, "num_key_value_heads", "--num_key_value_heads",
                            f.num_key_value_heads, config.num_key_value_heads));
  RETURN_IF_ERROR(SameField(dir, "head_dim", "--hidden_size / --num_attention_heads", f.head_dim,
                            config.head_dim));
  RETURN_IF_ERROR(SameField(dir, "tie_word_embeddings", "pretrain unties", f.tie_word_embeddings,
                            config.tie_word_embeddings));
  RETURN_IF_ERROR(SameField(dir, "rope_theta", "--rope_theta", f.rope_theta, config.rope_theta));
  DecoderConfig out = config;
  // Fine-tuning on shorter windows keeps the positions the model was made for.
  out.max_position_embeddings = std::max(config.max_position_embeddings, f.max_position_embeddings);
  return out;
}

absl::Status CheckInitTokenizer(const std::string& dir, const std::string& tokenizer_dir) {
  const fs::path own = fs::path(dir) / "tokenizer.model";
  if (!fs::exists(own)) return absl::OkStatus();
  const fs::path given = fs::path(tokenizer_dir) / "tokenizer.model";
  ASSIGN_OR_RETURN(const std::string a, ReadFileToString(own.string()));
  ASSIGN_OR_RETURN(const std::string b, ReadFileToString(given.string()));
  if (a == b) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("--init_from=", dir, ": its tokenizer.model differs from ", given.string(),
                   " (fine-tuning keeps the model's tokenizer; leave --tokenizer_dir out)"));
}

absl::Status LoadInitWeights(const std::string& dir, LlamaForCausalLM& model) {
  ASSIGN_OR_RETURN(const TensorMap tensors, ReadSafetensorsDir(dir));
  LoadStateDictOptions options;
  options.source = absl::StrCat("--init_from=", dir);
  return LoadStateDict(*model, tensors, options);
}

}  // namespace zett
