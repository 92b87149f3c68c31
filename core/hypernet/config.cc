#include "core/hypernet/config.h"

#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/io/json_fields.h"
#include "core/io/json_file.h"
#include "core/util/status_macros.h"

namespace zett {
namespace {

constexpr char kModelType[] = "zett_hypernetwork";

// Reads typed fields (core/io/json_fields.h) into a config and remembers which keys it consumed;
// an absent or null field leaves the default.
class FieldReader {
 public:
  explicit FieldReader(const nlohmann::json& json) : json_(json) {}

  absl::Status Int(const char* key, int64_t* out, bool required = false) {
    if (!required && json_fields::Find(json_, Consume(key)) == nullptr) return absl::OkStatus();
    return Assign(json_fields::Int(json_, key, kWhere), out);
  }
  absl::Status OptionalInt(const char* key, std::optional<int64_t>* out) {
    return Assign(json_fields::OptionalInt(json_, Consume(key), kWhere), out);
  }
  absl::Status Bool(const char* key, bool* out) {
    return Assign(json_fields::Bool(json_, Consume(key), kWhere, *out), out);
  }
  absl::Status Double(const char* key, double* out) {
    return Assign(json_fields::Double(json_, Consume(key), kWhere, *out), out);
  }
  absl::Status String(const char* key, std::string* out) {
    return Assign(json_fields::String(json_, Consume(key), kWhere, *out), out);
  }
  absl::Status StringList(const char* key, std::vector<std::string>* out) {
    if (json_fields::Find(json_, Consume(key)) == nullptr) return absl::OkStatus();
    return Assign(json_fields::StringList(json_, key, kWhere), out);
  }

  // Keys that no reader call consumed.
  nlohmann::json Rest() const {
    nlohmann::json rest = nlohmann::json::object();
    for (const auto& [key, value] : json_.items()) {
      if (consumed_.count(key) == 0) rest[key] = value;
    }
    return rest;
  }

  const char* Consume(const char* key) {
    consumed_.insert(key);
    return key;
  }

 private:
  static constexpr json_fields::Where kWhere = {"hypernet config", ""};

  template <typename T>
  static absl::Status Assign(absl::StatusOr<T> value, T* out) {
    if (!value.ok()) return value.status();
    *out = *std::move(value);
    return absl::OkStatus();
  }

  const nlohmann::json& json_;
  std::set<std::string> consumed_;
};

absl::Status Invalid(const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat("hypernet config: ", message));
}

absl::Status Unsupported(const char* key) {
  return Invalid(
      absl::StrCat("\"", key, "\": true is not supported (neither is it by zett's PyTorch port)"));
}

}  // namespace

absl::Status ValidateHypernetConfig(const ZettHypernetConfig& c) {
  if (c.hn_model_type != "roberta") {
    return Invalid(absl::StrCat("\"hn_model_type\": \"", c.hn_model_type,
                                "\" is not supported; only \"roberta\" is"));
  }
  if (c.hn_model_name_or_path != "roberta-base" &&
      c.hn_model_name_or_path != "FacebookAI/roberta-base") {
    return Invalid(absl::StrCat("\"hn_model_name_or_path\": \"", c.hn_model_name_or_path,
                                "\" is not supported; the encoder constants are those of "
                                "roberta-base"));
  }
  if (!c.hn_embed_using_source_embeddings) {
    return Invalid(
        "\"hn_embed_using_source_embeddings\" must be true (the hypernet reads the source "
        "model's embeddings; the other mode is not implemented, as in zett's PyTorch port)");
  }
  if (c.hn_embed_target_priors) return Unsupported("hn_embed_target_priors");
  if (c.hn_add_inter_token_attention) return Unsupported("hn_add_inter_token_attention");
  if (c.hn_concat_last_hidden_state) return Unsupported("hn_concat_last_hidden_state");
  if (c.n_embd <= 0) return Invalid(absl::StrCat("\"n_embd\" must be positive, got ", c.n_embd));
  if (c.hidden_size() <= 0 || c.intermediate_size() <= 0) {
    return Invalid(absl::StrCat("\"hn_hidden_size\" (", c.hidden_size(),
                                ") and \"hn_intermediate_size\" (", c.intermediate_size(),
                                ") must be positive"));
  }
  const int64_t heads = c.num_attention_heads();
  if (heads <= 0 || c.hidden_size() % heads != 0) {
    return Invalid(absl::StrCat("\"hn_num_attention_heads\" (", heads,
                                ") must be positive and divide hn_hidden_size (", c.hidden_size(),
                                ")"));
  }
  if (c.hn_n_layers < 1) {
    return Invalid(absl::StrCat("\"hn_n_layers\" must be >= 1, got ", c.hn_n_layers));
  }
  // The language element sits at position L, so L + 1 positions must exist.
  if (c.hn_surface_maxlen < 1 ||
      c.hn_surface_maxlen + 1 > RobertaBaseConstants::kMaxPositionEmbeddings) {
    return Invalid(absl::StrCat("\"hn_surface_maxlen\" must be in [1, ",
                                RobertaBaseConstants::kMaxPositionEmbeddings - 1, "], got ",
                                c.hn_surface_maxlen));
  }
  if (c.original_vocab_size <= 0) {
    return Invalid(
        absl::StrCat("\"original_vocab_size\" must be positive, got ", c.original_vocab_size));
  }
  if (c.pad_token_id < 0) {
    return Invalid(absl::StrCat("\"pad_token_id\" must be set and >= 0, got ", c.pad_token_id));
  }
  if (c.hn_n_extra_tokens < 0) {
    return Invalid(absl::StrCat("\"hn_n_extra_tokens\" must be >= 0, got ", c.hn_n_extra_tokens));
  }
  if (c.hn_embed_lang_id) {
    if (!c.n_langs.has_value() || *c.n_langs < 1) {
      return Invalid("\"hn_embed_lang_id\" is true but \"n_langs\" is not a positive integer");
    }
    if (!c.langs.empty() && static_cast<int64_t>(c.langs.size()) != *c.n_langs) {
      return Invalid(absl::StrCat("\"langs\" has ", c.langs.size(), " entries but \"n_langs\" is ",
                                  *c.n_langs));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ZettHypernetConfig> HypernetConfigFromJson(const nlohmann::json& json) {
  if (!json.is_object()) return Invalid("config.json must hold a JSON object");
  ZettHypernetConfig c;
  FieldReader r(json);
  RETURN_IF_ERROR(r.String("hn_model_name_or_path", &c.hn_model_name_or_path));
  RETURN_IF_ERROR(r.String("hn_model_type", &c.hn_model_type));
  RETURN_IF_ERROR(r.Int("hn_surface_maxlen", &c.hn_surface_maxlen));
  RETURN_IF_ERROR(r.Int("hn_n_layers", &c.hn_n_layers));
  RETURN_IF_ERROR(r.Int("n_embd", &c.n_embd));
  RETURN_IF_ERROR(r.OptionalInt("hn_hidden_size", &c.hn_hidden_size));
  RETURN_IF_ERROR(r.OptionalInt("hn_intermediate_size", &c.hn_intermediate_size));
  RETURN_IF_ERROR(r.OptionalInt("hn_num_attention_heads", &c.hn_num_attention_heads));
  RETURN_IF_ERROR(r.Bool("hn_rescale_embeddings", &c.hn_rescale_embeddings));
  RETURN_IF_ERROR(r.Bool("hn_embed_using_source_embeddings", &c.hn_embed_using_source_embeddings));
  RETURN_IF_ERROR(r.Bool("hn_single_head", &c.hn_single_head));
  RETURN_IF_ERROR(r.Bool("hn_predict_bias", &c.hn_predict_bias));
  RETURN_IF_ERROR(r.Bool("hn_embed_lang_id", &c.hn_embed_lang_id));
  RETURN_IF_ERROR(r.OptionalInt("n_langs", &c.n_langs));
  RETURN_IF_ERROR(r.Bool("hn_embed_target_priors", &c.hn_embed_target_priors));
  RETURN_IF_ERROR(r.Bool("hn_add_inter_token_attention", &c.hn_add_inter_token_attention));
  RETURN_IF_ERROR(r.Bool("hn_concat_last_hidden_state", &c.hn_concat_last_hidden_state));
  RETURN_IF_ERROR(r.Bool("hn_inter_token_attention_bias_by_priors",
                         &c.hn_inter_token_attention_bias_by_priors));
  RETURN_IF_ERROR(
      r.Double("hn_inter_token_attention_bias_scaler", &c.hn_inter_token_attention_bias_scaler));
  RETURN_IF_ERROR(r.Int("hn_n_inter_token_blocks", &c.hn_n_inter_token_blocks));
  RETURN_IF_ERROR(r.Int("original_vocab_size", &c.original_vocab_size, /*required=*/true));
  RETURN_IF_ERROR(r.Int("pad_token_id", &c.pad_token_id, /*required=*/true));
  RETURN_IF_ERROR(r.Bool("separate_out_embeddings", &c.separate_out_embeddings));
  RETURN_IF_ERROR(r.Int("hn_n_extra_tokens", &c.hn_n_extra_tokens));
  RETURN_IF_ERROR(r.StringList("langs", &c.langs));
  RETURN_IF_ERROR(r.Bool("hn_residual", &c.hn_residual));
  RETURN_IF_ERROR(r.Double("hn_residual_alpha", &c.hn_residual_alpha));
  // Rewritten on output.
  r.Consume("model_type");
  c.extra = r.Rest();
  RETURN_IF_ERROR(ValidateHypernetConfig(c));
  return c;
}

nlohmann::json HypernetConfigToJson(const ZettHypernetConfig& c) {
  nlohmann::json j = c.extra;
  auto optional = [](const std::optional<int64_t>& v) -> nlohmann::json {
    return v.has_value() ? nlohmann::json(*v) : nlohmann::json(nullptr);
  };
  j["model_type"] = kModelType;
  j["hn_model_name_or_path"] = c.hn_model_name_or_path;
  j["hn_model_type"] = c.hn_model_type;
  j["hn_surface_maxlen"] = c.hn_surface_maxlen;
  j["hn_n_layers"] = c.hn_n_layers;
  j["n_embd"] = c.n_embd;
  j["hn_hidden_size"] = optional(c.hn_hidden_size);
  j["hn_intermediate_size"] = optional(c.hn_intermediate_size);
  j["hn_num_attention_heads"] = optional(c.hn_num_attention_heads);
  j["hn_rescale_embeddings"] = c.hn_rescale_embeddings;
  j["hn_embed_using_source_embeddings"] = c.hn_embed_using_source_embeddings;
  j["hn_single_head"] = c.hn_single_head;
  j["hn_predict_bias"] = c.hn_predict_bias;
  j["hn_embed_lang_id"] = c.hn_embed_lang_id;
  j["n_langs"] = optional(c.n_langs);
  j["hn_embed_target_priors"] = c.hn_embed_target_priors;
  j["hn_add_inter_token_attention"] = c.hn_add_inter_token_attention;
  j["hn_concat_last_hidden_state"] = c.hn_concat_last_hidden_state;
  j["hn_inter_token_attention_bias_by_priors"] = c.hn_inter_token_attention_bias_by_priors;
  j["hn_inter_token_attention_bias_scaler"] = c.hn_inter_token_attention_bias_scaler;
  j["hn_n_inter_token_blocks"] = c.hn_n_inter_token_blocks;
  j["original_vocab_size"] = c.original_vocab_size;
  j["pad_token_id"] = c.pad_token_id;
  j["separate_out_embeddings"] = c.separate_out_embeddings;
  j["hn_n_extra_tokens"] = c.hn_n_extra_tokens;
  if (!c.langs.empty()) j["langs"] = c.langs;
  j["hn_residual"] = c.hn_residual;
  j["hn_residual_alpha"] = c.hn_residual_alpha;
  return j;
}

absl::StatusOr<ZettHypernetConfig> ReadHypernetConfig(const std::string& path) {
  ASSIGN_OR_RETURN(nlohmann::json json, ReadJsonFile(path));
  auto config = HypernetConfigFromJson(json);
  if (!config.ok()) {
    return absl::Status(config.status().code(),
                        absl::StrCat(path, ": ", config.status().message()));
  }
  return config;
}

absl::Status WriteHypernetConfig(const std::string& path, const ZettHypernetConfig& config) {
  RETURN_IF_ERROR(ValidateHypernetConfig(config));
  return WriteJsonFile(path, HypernetConfigToJson(config));
}

}  // namespace zett
