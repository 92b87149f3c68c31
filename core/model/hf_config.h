// Hugging Face `config.json` / `generation_config.json` for the backbones zett runs:
// LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM (one decoder family) and
// XLMRobertaForMaskedLM / RobertaForMaskedLM (encoder with MLM head). Defaults follow the
// transformers configuration classes, so a config.json that omits a field means what it means
// there.
#ifndef ZETT_CORE_MODEL_HF_CONFIG_H_
#define ZETT_CORE_MODEL_HF_CONFIG_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace zett {

enum class Architecture { kLlama, kMistral, kQwen2, kXlmRoberta, kRoberta };

// "LlamaForCausalLM", … (the name `architectures[0]` uses).
std::string ArchitectureName(Architecture architecture);
bool IsDecoder(Architecture architecture);

// From `architectures[0]`, else `model_type`. INVALID_ARGUMENT names what is unsupported.
absl::StatusOr<Architecture> ArchitectureFromConfig(const nlohmann::json& config);

// RoPE frequency scaling. Only "none"/"default" and "linear" are implemented; others
// ("dynamic", "yarn", "llama3", "longrope", …) are rejected at parse time.
struct RopeScaling {
  std::string type = "none";
  double factor = 1.0;  // linear: positions are divided by `factor`
};

// Llama / Mistral / Qwen2. All three are: embed → N × (RMSNorm → GQA attention with RoPE →
// residual → RMSNorm → SwiGLU MLP → residual) → RMSNorm → LM head.
struct DecoderConfig {
  Architecture architecture = Architecture::kLlama;
  int64_t vocab_size = 32000;
  int64_t hidden_size = 4096;
  int64_t intermediate_size = 11008;
  int64_t num_hidden_layers = 32;
  int64_t num_attention_heads = 32;
  int64_t num_key_value_heads = 32;  // GQA: query head h reads key/value head h / (heads / kv)
  int64_t head_dim = 128;            // hidden_size / num_attention_heads unless set
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  int64_t max_position_embeddings = 2048;
  bool tie_word_embeddings = false;
  bool attention_bias = false;  // bias on q/k/v (and on o_proj for Llama; Qwen2: q/k/v only)
  bool o_proj_bias = false;
  bool mlp_bias = false;  // Llama's gate/up/down bias
  // Per layer: 0 = full causal attention, w > 0 = query i sees keys j with 0 <= i - j < w.
  std::vector<int64_t> sliding_window_per_layer;
  double initializer_range = 0.02;
  std::optional<int64_t> bos_token_id, eos_token_id, pad_token_id;
  std::string torch_dtype = "float32";
};

// XLM-R / RoBERTa encoder with its MLM head: post-LN BERT layers, exact GELU, learned absolute
// positions offset by pad_token_id + 1.
struct EncoderConfig {
  Architecture architecture = Architecture::kXlmRoberta;
  int64_t vocab_size = 30522;
  int64_t hidden_size = 768;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  int64_t intermediate_size = 3072;
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 2;
  double layer_norm_eps = 1e-12;
  bool tie_word_embeddings = true;
  double initializer_range = 0.02;
  int64_t pad_token_id = 1;
  std::optional<int64_t> bos_token_id, eos_token_id;
  std::string torch_dtype = "float32";
};

// Parsed and validated config.json. Errors say which field is wrong and why.
absl::StatusOr<DecoderConfig> ParseDecoderConfig(const nlohmann::json& config);
absl::StatusOr<EncoderConfig> ParseEncoderConfig(const nlohmann::json& config);

// The config.json transformers writes for the same model (architectures, model_type, …).
nlohmann::json DecoderConfigToJson(const DecoderConfig& config);

// generation_config.json; `eos_token_id` may be an int or a list there.
struct GenerationConfig {
  std::optional<int64_t> bos_token_id, pad_token_id;
  std::vector<int64_t> eos_token_ids;
  std::optional<int64_t> max_length, max_new_tokens, top_k;
  std::optional<double> temperature, top_p;
  bool do_sample = false;
};
absl::StatusOr<GenerationConfig> ParseGenerationConfig(const nlohmann::json& config);
nlohmann::json GenerationConfigToJson(const GenerationConfig& config);

}  // namespace zett

#endif  // ZETT_CORE_MODEL_HF_CONFIG_H_
