// The hypernetwork's config.json: the fields of zett's `ZettHypernetConfig`
// (hf_hypernet/configuration_hypernet.py) plus the base-model fields its training script adds
// (original_vocab_size, pad_token_id, separate_out_embeddings, hn_n_extra_tokens, langs), with the
// same names and defaults, so a published checkpoint's config.json loads unchanged. Two fields are
// ours (hn_residual, hn_residual_alpha); they default off.
#ifndef ZETT_CORE_HYPERNET_CONFIG_H_
#define ZETT_CORE_HYPERNET_CONFIG_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace zett {

struct ZettHypernetConfig {
  // --- zett's ZettHypernetConfig (defaults as in its __init__) ---
  std::string hn_model_name_or_path = "roberta-base";  // only roberta-base is supported
  std::string hn_model_type = "roberta";               // "t5" is not supported
  int64_t hn_surface_maxlen = 16;                      // L; 7 in every published hypernet
  int64_t hn_n_layers = 3;
  int64_t n_embd = 768;  // d, the base model's embedding width
  // H and I; JSON null means "unset": H = n_embd and I = 2H, as zett's train.py sets them.
  std::optional<int64_t> hn_hidden_size;
  std::optional<int64_t> hn_intermediate_size;
  std::optional<int64_t> hn_num_attention_heads;  // unset: H / 64
  bool hn_rescale_embeddings = false;             // frozen affine in_scaler / scaler / out_scaler
  bool hn_embed_using_source_embeddings = false;  // must be true (the PyTorch port requires it)
  bool hn_single_head = false;  // one head predicting [E_in | E_out] instead of two heads
  bool hn_predict_bias = true;
  bool hn_embed_lang_id = false;
  std::optional<int64_t> n_langs;
  // Present in the published configs but unsupported when true (the PyTorch port raises too).
  bool hn_embed_target_priors = false;
  bool hn_add_inter_token_attention = false;
  bool hn_concat_last_hidden_state = false;
  // Only meaningful with inter-token attention; kept so a config round-trips.
  bool hn_inter_token_attention_bias_by_priors = false;
  double hn_inter_token_attention_bias_scaler = 1.0;
  int64_t hn_n_inter_token_blocks = 16;

  // --- base-model fields written by zett's train.py ---
  int64_t original_vocab_size = 0;       // ids >= this read fallback_embeddings
  int64_t pad_token_id = -1;             // the ORIGINAL tokenizer's pad id; padding in [V, L]
  bool separate_out_embeddings = false;  // untied: source rows are [E_in | E_out], 2d wide
  int64_t hn_n_extra_tokens = 0;         // rows of fallback_embeddings (at least 1 is allocated)
  std::vector<std::string> langs;        // language codes, index = lang_index

  // --- ours: residual form E = E_src[id_0] + alpha / sqrt(d) * head(h), zero-initialised head
  // (ALM paper App. D, tokenkit). Off in every published config.
  bool hn_residual = false;
  double hn_residual_alpha = 1.0;

  // Every key of the parsed JSON that is not a field above (architectures, auto_map,
  // transformers_version, …), written back unchanged.
  nlohmann::json extra = nlohmann::json::object();

  // Derived sizes (valid after Validate()).
  int64_t hidden_size() const { return hn_hidden_size.value_or(n_embd); }
  int64_t intermediate_size() const { return hn_intermediate_size.value_or(2 * hidden_size()); }
  int64_t num_attention_heads() const {
    return hn_num_attention_heads.value_or(hidden_size() / 64);
  }
  // Width of one source-embedding row: 2d when untied ([E_in | E_out]), d when tied.
  int64_t source_embedding_dim() const { return separate_out_embeddings ? 2 * n_embd : n_embd; }
  int64_t fallback_rows() const { return hn_n_extra_tokens > 0 ? hn_n_extra_tokens : 1; }
  int64_t n_lang_rows() const { return n_langs.value_or(0); }
};

// RoBERTa constants of `hn_model_name_or_path` = roberta-base that the encoder inherits.
struct RobertaBaseConstants {
  static constexpr int64_t kMaxPositionEmbeddings = 514;
  static constexpr int64_t kTypeVocabSize = 1;
  static constexpr double kLayerNormEps = 1e-5;
  static constexpr double kInitializerRange = 0.02;
};

// Checks sizes and rejects what this implementation does not support, naming the field.
absl::Status ValidateHypernetConfig(const ZettHypernetConfig& config);

// Parses and validates. INVALID_ARGUMENT names the field and what is wrong with it.
absl::StatusOr<ZettHypernetConfig> HypernetConfigFromJson(const nlohmann::json& json);

// All fields (and `extra`), with model_type "zett_hypernetwork".
nlohmann::json HypernetConfigToJson(const ZettHypernetConfig& config);

// config.json in a checkpoint folder.
absl::StatusOr<ZettHypernetConfig> ReadHypernetConfig(const std::string& path);
absl::Status WriteHypernetConfig(const std::string& path, const ZettHypernetConfig& config);

}  // namespace zett

#endif  // ZETT_CORE_HYPERNET_CONFIG_H_
