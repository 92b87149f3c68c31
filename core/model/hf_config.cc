#include "core/model/hf_config.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/io/json_fields.h"
#include "core/util/status_macros.h"

namespace zett {
namespace {

using json = nlohmann::json;

constexpr std::string_view kDocument = "config.json";

absl::Status FieldError(const std::string& field, const std::string& what) {
  return json_fields::Error(kDocument, field, what);
}

// A missing or null field keeps `fallback`, as transformers' defaults do.
absl::StatusOr<int64_t> GetInt(const json& config, const std::string& field, int64_t fallback) {
  return json_fields::Int(config, field, {kDocument, ""}, fallback);
}

absl::StatusOr<std::optional<int64_t>> GetOptionalInt(const json& config, const std::string& field,
                                                      std::optional<int64_t> fallback) {
  auto it = config.find(field);
  if (it == config.end()) return fallback;
  // Some configs list several eos ids; the first is the one the model was trained with.
  if (it->is_array() && !it->empty() && (*it)[0].is_number_integer()) {
    return std::optional<int64_t>((*it)[0].get<int64_t>());
  }
  return json_fields::OptionalInt(config, field, {kDocument, ""});
}

absl::StatusOr<double> GetDouble(const json& config, const std::string& field, double fallback) {
  return json_fields::Double(config, field, {kDocument, ""}, fallback);
}

absl::StatusOr<bool> GetBool(const json& config, const std::string& field, bool fallback) {
  return json_fields::Bool(config, field, {kDocument, ""}, fallback);
}

std::string GetDtype(const json& config) {
  // transformers ≥ 4.56 writes "dtype"; older versions "torch_dtype".
  for (const char* field : {"torch_dtype", "dtype"}) {
    auto it = config.find(field);
    if (it != config.end() && it->is_string()) return it->get<std::string>();
  }
  return "float32";
}

absl::Status CheckPositive(const std::string& field, int64_t value) {
  if (value <= 0) return FieldError(field, absl::StrCat("must be positive, got ", value));
  return absl::OkStatus();
}

// transformers ≥ 5 folds rope_theta and rope_scaling into one `rope_parameters` object.
const json* RopeObject(const json& config) {
  for (const char* field : {"rope_parameters", "rope_scaling"}) {
    auto it = config.find(field);
    if (it != config.end() && !it->is_null()) return &*it;
  }
  return nullptr;
}

absl::StatusOr<RopeScaling> ParseRopeScaling(const json& config) {
  RopeScaling scaling;
  const json* rope = RopeObject(config);
  if (rope == nullptr) return scaling;
  auto it = rope;
  if (!it->is_object()) return FieldError("rope_scaling", "expected an object or null");
  std::string type;
  for (const char* key : {"rope_type", "type"}) {
    if (it->contains(key) && (*it)[key].is_string()) {
      type = (*it)[key].get<std::string>();
      break;
    }
  }
  if (type.empty() || type == "default") return scaling;
  if (type != "linear") {
    return FieldError("rope_scaling",
                      absl::StrCat("type '", type,
                                   "' is not supported (zett implements none/default and linear)"));
  }
  ASSIGN_OR_RETURN(scaling.factor, GetDouble(*it, "factor", 1.0));
  if (!(scaling.factor > 0)) return FieldError("rope_scaling.factor", "must be positive");
  scaling.type = "linear";
  return scaling;
}

// Which layers use a sliding window, following transformers: Mistral slides every layer when
// `sliding_window` is set; Qwen2 only with `use_sliding_window`, on layers >= max_window_layers;
// an explicit `layer_types` list ("sliding_attention" / "full_attention") wins over both.
absl::StatusOr<std::vector<int64_t>> ParseSlidingWindows(const json& config,
                                                         Architecture architecture,
                                                         int64_t num_layers) {
  std::vector<int64_t> windows(num_layers, 0);
  if (architecture == Architecture::kLlama) return windows;
  int64_t window = 0;
  if (architecture == Architecture::kMistral) {
    // Absent means transformers' default 4096; an explicit null means no window.
    const bool explicit_null =
        config.contains("sliding_window") && config["sliding_window"].is_null();
    ASSIGN_OR_RETURN(window, GetInt(config, "sliding_window", explicit_null ? 0 : 4096));
  } else {
    ASSIGN_OR_RETURN(bool use, GetBool(config, "use_sliding_window", false));
    if (use) {
      ASSIGN_OR_RETURN(window, GetInt(config, "sliding_window", 4096));
    }
  }
  if (window < 0) return FieldError("sliding_window", "must not be negative");
  if (window == 0) return windows;
  auto types = config.find("layer_types");
  if (types != config.end() && types->is_array()) {
    if (static_cast<int64_t>(types->size()) != num_layers) {
      return FieldError("layer_types", absl::StrCat("has ", types->size(), " entries for ",
                                                    num_layers, " layers"));
    }
    for (int64_t i = 0; i < num_layers; ++i) {
      if ((*types)[i] == "sliding_attention") windows[i] = window;
    }
    return windows;
  }
  int64_t first_sliding = 0;
  if (architecture == Architecture::kQwen2) {
    ASSIGN_OR_RETURN(first_sliding, GetInt(config, "max_window_layers", 28));
  }
  for (int64_t i = first_sliding; i < num_layers; ++i) windows[i] = window;
  return windows;
}

}  // namespace

std::string ArchitectureName(Architecture architecture) {
  switch (architecture) {
    case Architecture::kLlama:
      return "LlamaForCausalLM";
    case Architecture::kMistral:
      return "MistralForCausalLM";
    case Architecture::kQwen2:
      return "Qwen2ForCausalLM";
    case Architecture::kXlmRoberta:
      return "XLMRobertaForMaskedLM";
    case Architecture::kRoberta:
      return "RobertaForMaskedLM";
  }
  return "unknown";
}

bool IsDecoder(Architecture architecture) {
  return architecture == Architecture::kLlama || architecture == Architecture::kMistral ||
         architecture == Architecture::kQwen2;
}

absl::StatusOr<Architecture> ArchitectureFromConfig(const json& config) {
  if (!config.is_object()) return absl::InvalidArgumentError("config.json is not a JSON object");
  std::string name;
  auto archs = config.find("architectures");
  if (archs != config.end() && archs->is_array() && !archs->empty() && (*archs)[0].is_string()) {
    name = (*archs)[0].get<std::string>();
  }
  const std::string model_type = config.value("model_type", std::string());
  struct Known {
    const char* architecture;
    const char* model_type;
    Architecture value;
  };
  static const Known kKnown[] = {
      {"LlamaForCausalLM", "llama", Architecture::kLlama},
      {"MistralForCausalLM", "mistral", Architecture::kMistral},
      {"Qwen2ForCausalLM", "qwen2", Architecture::kQwen2},
      {"XLMRobertaForMaskedLM", "xlm-roberta", Architecture::kXlmRoberta},
      {"RobertaForMaskedLM", "roberta", Architecture::kRoberta},
  };
  for (const Known& known : kKnown) {
    if (name == known.architecture) return known.value;
  }
  if (name.empty()) {
    for (const Known& known : kKnown) {
      if (model_type == known.model_type) return known.value;
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("config.json: unsupported architecture '", name, "' (model_type '", model_type,
                   "'); zett runs LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, "
                   "XLMRobertaForMaskedLM and RobertaForMaskedLM"));
}

absl::StatusOr<DecoderConfig> ParseDecoderConfig(const json& config) {
  DecoderConfig c;
  ASSIGN_OR_RETURN(c.architecture, ArchitectureFromConfig(config));
  if (!IsDecoder(c.architecture)) {
    return absl::InvalidArgumentError(
        absl::StrCat("config.json: ", ArchitectureName(c.architecture), " is not a decoder LM"));
  }
  const bool mistral = c.architecture == Architecture::kMistral;
  const bool qwen2 = c.architecture == Architecture::kQwen2;
  const std::string act = config.value("hidden_act", std::string("silu"));
  if (act != "silu") return FieldError("hidden_act", "only 'silu' (SwiGLU) is supported");
  ASSIGN_OR_RETURN(c.vocab_size, GetInt(config, "vocab_size", qwen2 ? 151936 : 32000));
  ASSIGN_OR_RETURN(c.hidden_size, GetInt(config, "hidden_size", 4096));
  ASSIGN_OR_RETURN(c.intermediate_size, GetInt(config, "intermediate_size",
                                               mistral ? 14336
                                               : qwen2 ? 22016
                                                       : 11008));
  ASSIGN_OR_RETURN(c.num_hidden_layers, GetInt(config, "num_hidden_layers", 32));
  ASSIGN_OR_RETURN(c.num_attention_heads, GetInt(config, "num_attention_heads", 32));
  ASSIGN_OR_RETURN(c.num_key_value_heads,
                   GetInt(config, "num_key_value_heads", mistral ? 8 : c.num_attention_heads));
  for (const auto& [field, value] : {std::pair<const char*, int64_t>{"vocab_size", c.vocab_size},
                                     {"hidden_size", c.hidden_size},
                                     {"intermediate_size", c.intermediate_size},
                                     {"num_hidden_layers", c.num_hidden_layers},
                                     {"num_attention_heads", c.num_attention_heads},
                                     {"num_key_value_heads", c.num_key_value_heads}}) {
    RETURN_IF_ERROR(CheckPositive(field, value));
  }
  if (c.num_attention_heads % c.num_key_value_heads != 0) {
    return FieldError("num_key_value_heads",
                      absl::StrCat(c.num_key_value_heads, " does not divide num_attention_heads ",
                                   c.num_attention_heads));
  }
  const int64_t default_head_dim = c.hidden_size / c.num_attention_heads;
  ASSIGN_OR_RETURN(c.head_dim, GetInt(config, "head_dim", default_head_dim));
  RETURN_IF_ERROR(CheckPositive("head_dim", c.head_dim));
  if (c.head_dim % 2 != 0) return FieldError("head_dim", "must be even for RoPE");
  ASSIGN_OR_RETURN(c.rms_norm_eps, GetDouble(config, "rms_norm_eps", 1e-6));
  ASSIGN_OR_RETURN(c.rope_theta, GetDouble(config, "rope_theta", 10000.0));
  if (const json* rope = RopeObject(config); rope != nullptr && rope->is_object()) {
    ASSIGN_OR_RETURN(c.rope_theta, GetDouble(*rope, "rope_theta", c.rope_theta));
  }
  ASSIGN_OR_RETURN(c.rope_scaling, ParseRopeScaling(config));
  ASSIGN_OR_RETURN(c.max_position_embeddings, GetInt(config, "max_position_embeddings",
                                                     mistral ? 4096 * 32
                                                     : qwen2 ? 32768
                                                             : 2048));
  ASSIGN_OR_RETURN(c.tie_word_embeddings, GetBool(config, "tie_word_embeddings", false));
  if (qwen2) {
    c.attention_bias = true;  // Qwen2 always has q/k/v biases and no o_proj bias.
  } else if (!mistral) {
    ASSIGN_OR_RETURN(c.attention_bias, GetBool(config, "attention_bias", false));
    c.o_proj_bias = c.attention_bias;
    ASSIGN_OR_RETURN(c.mlp_bias, GetBool(config, "mlp_bias", false));
  }
  ASSIGN_OR_RETURN(c.sliding_window_per_layer,
                   ParseSlidingWindows(config, c.architecture, c.num_hidden_layers));
  ASSIGN_OR_RETURN(c.initializer_range, GetDouble(config, "initializer_range", 0.02));
  ASSIGN_OR_RETURN(
      c.bos_token_id,
      GetOptionalInt(config, "bos_token_id", qwen2 ? std::nullopt : std::optional<int64_t>(1)));
  ASSIGN_OR_RETURN(
      c.eos_token_id,
      GetOptionalInt(config, "eos_token_id", qwen2 ? std::nullopt : std::optional<int64_t>(2)));
  ASSIGN_OR_RETURN(c.pad_token_id, GetOptionalInt(config, "pad_token_id", std::nullopt));
  c.torch_dtype = GetDtype(config);
  return c;
}

absl::StatusOr<EncoderConfig> ParseEncoderConfig(const json& config) {
  EncoderConfig c;
  ASSIGN_OR_RETURN(c.architecture, ArchitectureFromConfig(config));
  if (IsDecoder(c.architecture)) {
    return absl::InvalidArgumentError(
        absl::StrCat("config.json: ", ArchitectureName(c.architecture), " is not an encoder"));
  }
  const std::string act = config.value("hidden_act", std::string("gelu"));
  if (act != "gelu") return FieldError("hidden_act", "only 'gelu' (exact) is supported");
  const std::string position_type =
      config.value("position_embedding_type", std::string("absolute"));
  if (position_type != "absolute") {
    return FieldError("position_embedding_type", "only 'absolute' is supported");
  }
  ASSIGN_OR_RETURN(c.vocab_size, GetInt(config, "vocab_size", 30522));
  ASSIGN_OR_RETURN(c.hidden_size, GetInt(config, "hidden_size", 768));
  ASSIGN_OR_RETURN(c.num_hidden_layers, GetInt(config, "num_hidden_layers", 12));
  ASSIGN_OR_RETURN(c.num_attention_heads, GetInt(config, "num_attention_heads", 12));
  ASSIGN_OR_RETURN(c.intermediate_size, GetInt(config, "intermediate_size", 3072));
  ASSIGN_OR_RETURN(c.max_position_embeddings, GetInt(config, "max_position_embeddings", 512));
  ASSIGN_OR_RETURN(c.type_vocab_size, GetInt(config, "type_vocab_size", 2));
  for (const auto& [field, value] : {std::pair<const char*, int64_t>{"vocab_size", c.vocab_size},
                                     {"hidden_size", c.hidden_size},
                                     {"num_hidden_layers", c.num_hidden_layers},
                                     {"num_attention_heads", c.num_attention_heads},
                                     {"intermediate_size", c.intermediate_size},
                                     {"max_position_embeddings", c.max_position_embeddings},
                                     {"type_vocab_size", c.type_vocab_size}}) {
    RETURN_IF_ERROR(CheckPositive(field, value));
  }
  if (c.hidden_size % c.num_attention_heads != 0) {
    return FieldError("num_attention_heads", "must divide hidden_size");
  }
  ASSIGN_OR_RETURN(c.layer_norm_eps, GetDouble(config, "layer_norm_eps", 1e-12));
  ASSIGN_OR_RETURN(c.tie_word_embeddings, GetBool(config, "tie_word_embeddings", true));
  ASSIGN_OR_RETURN(c.initializer_range, GetDouble(config, "initializer_range", 0.02));
  ASSIGN_OR_RETURN(c.pad_token_id, GetInt(config, "pad_token_id", 1));
  if (c.pad_token_id < 0 || c.pad_token_id + 1 >= c.max_position_embeddings) {
    return FieldError("pad_token_id",
                      "positions start at pad_token_id + 1, which must be below "
                      "max_position_embeddings");
  }
  ASSIGN_OR_RETURN(c.bos_token_id, GetOptionalInt(config, "bos_token_id", 0));
  ASSIGN_OR_RETURN(c.eos_token_id, GetOptionalInt(config, "eos_token_id", 2));
  c.torch_dtype = GetDtype(config);
  return c;
}

json DecoderConfigToJson(const DecoderConfig& c) {
  static const char* kModelType[] = {"llama", "mistral", "qwen2"};
  json out;
  out["architectures"] = {ArchitectureName(c.architecture)};
  out["model_type"] = kModelType[static_cast<int>(c.architecture)];
  out["vocab_size"] = c.vocab_size;
  out["hidden_size"] = c.hidden_size;
  out["intermediate_size"] = c.intermediate_size;
  out["num_hidden_layers"] = c.num_hidden_layers;
  out["num_attention_heads"] = c.num_attention_heads;
  out["num_key_value_heads"] = c.num_key_value_heads;
  out["head_dim"] = c.head_dim;
  out["hidden_act"] = "silu";
  out["rms_norm_eps"] = c.rms_norm_eps;
  out["rope_theta"] = c.rope_theta;
  if (c.rope_scaling.type == "linear") {
    out["rope_scaling"] = {{"rope_type", "linear"}, {"factor", c.rope_scaling.factor}};
  } else {
    out["rope_scaling"] = nullptr;
  }
  out["max_position_embeddings"] = c.max_position_embeddings;
  out["tie_word_embeddings"] = c.tie_word_embeddings;
  out["initializer_range"] = c.initializer_range;
  if (c.architecture == Architecture::kLlama) {
    out["attention_bias"] = c.attention_bias;
    out["mlp_bias"] = c.mlp_bias;
  }
  int64_t window = 0;
  for (int64_t w : c.sliding_window_per_layer) window = std::max(window, w);
  if (c.architecture == Architecture::kMistral) {
    out["sliding_window"] = window > 0 ? json(window) : json(nullptr);
  }
  if (c.architecture == Architecture::kQwen2) {
    out["use_sliding_window"] = window > 0;
    out["sliding_window"] = window > 0 ? json(window) : json(nullptr);
    int64_t first = c.num_hidden_layers;
    for (int64_t i = c.num_hidden_layers - 1; i >= 0 && c.sliding_window_per_layer[i] > 0; --i) {
      first = i;
    }
    out["max_window_layers"] = first;
  }
  auto id = [](const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); };
  out["bos_token_id"] = id(c.bos_token_id);
  out["eos_token_id"] = id(c.eos_token_id);
  out["pad_token_id"] = id(c.pad_token_id);
  out["torch_dtype"] = c.torch_dtype;
  out["use_cache"] = true;
  return out;
}

absl::StatusOr<GenerationConfig> ParseGenerationConfig(const json& config) {
  if (!config.is_object()) {
    return absl::InvalidArgumentError("generation_config.json is not a JSON object");
  }
  GenerationConfig g;
  ASSIGN_OR_RETURN(g.bos_token_id, GetOptionalInt(config, "bos_token_id", std::nullopt));
  ASSIGN_OR_RETURN(g.pad_token_id, GetOptionalInt(config, "pad_token_id", std::nullopt));
  auto eos = config.find("eos_token_id");
  if (eos != config.end() && !eos->is_null()) {
    if (eos->is_number_integer()) {
      g.eos_token_ids.push_back(eos->get<int64_t>());
    } else if (eos->is_array()) {
      for (const auto& v : *eos) {
        if (!v.is_number_integer()) return FieldError("eos_token_id", "list of non-integers");
        g.eos_token_ids.push_back(v.get<int64_t>());
      }
    } else {
      return FieldError("eos_token_id", "expected an integer or a list of integers");
    }
  }
  ASSIGN_OR_RETURN(g.max_length, GetOptionalInt(config, "max_length", std::nullopt));
  ASSIGN_OR_RETURN(g.max_new_tokens, GetOptionalInt(config, "max_new_tokens", std::nullopt));
  ASSIGN_OR_RETURN(g.top_k, GetOptionalInt(config, "top_k", std::nullopt));
  if (config.contains("temperature") && !config["temperature"].is_null()) {
    ASSIGN_OR_RETURN(double t, GetDouble(config, "temperature", 1.0));
    g.temperature = t;
  }
  if (config.contains("top_p") && !config["top_p"].is_null()) {
    ASSIGN_OR_RETURN(double p, GetDouble(config, "top_p", 1.0));
    g.top_p = p;
  }
  ASSIGN_OR_RETURN(g.do_sample, GetBool(config, "do_sample", false));
  return g;
}

json GenerationConfigToJson(const GenerationConfig& g) {
  json out = json::object();
  if (g.bos_token_id) out["bos_token_id"] = *g.bos_token_id;
  if (g.pad_token_id) out["pad_token_id"] = *g.pad_token_id;
  if (g.eos_token_ids.size() == 1) out["eos_token_id"] = g.eos_token_ids[0];
  if (g.eos_token_ids.size() > 1) out["eos_token_id"] = g.eos_token_ids;
  if (g.max_length) out["max_length"] = *g.max_length;
  if (g.max_new_tokens) out["max_new_tokens"] = *g.max_new_tokens;
  if (g.top_k) out["top_k"] = *g.top_k;
  if (g.temperature) out["temperature"] = *g.temperature;
  if (g.top_p) out["top_p"] = *g.top_p;
  out["do_sample"] = g.do_sample;
  return out;
}

}  // namespace zett
