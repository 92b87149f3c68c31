#include "core/tokenizer/special_tokens_map.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/container/flat_hash_set.h"
#include "core/tokenizer/unicode_text.h"
#include "core/util/status_macros.h"

namespace zett::tokenizer {
namespace {

using Json = nlohmann::ordered_json;  // file order decides model-specific order

constexpr const char* kNamedAttributes[] = {"bos_token", "eos_token", "unk_token", "sep_token",
                                            "pad_token", "cls_token", "mask_token"};

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool IsNamedAttribute(std::string_view key) {
  return std::find(std::begin(kNamedAttributes), std::end(kNamedAttributes), key) !=
         std::end(kNamedAttributes);
}

// Defaults of the tokenizer classes whose __init__ sets named tokens the config may omit.
const std::vector<std::pair<std::string, std::string>>* ClassDefaults(std::string_view cls) {
  static const auto* const kLlama = new std::vector<std::pair<std::string, std::string>>{
      {"bos_token", "<s>"}, {"eos_token", "</s>"}, {"unk_token", "<unk>"}};
  static const auto* const kGpt2 =
      new std::vector<std::pair<std::string, std::string>>{{"bos_token", "<|endoftext|>"},
                                                           {"eos_token", "<|endoftext|>"},
                                                           {"unk_token", "<|endoftext|>"}};
  static const auto* const kBert =
      new std::vector<std::pair<std::string, std::string>>{{"unk_token", "[UNK]"},
                                                           {"sep_token", "[SEP]"},
                                                           {"pad_token", "[PAD]"},
                                                           {"cls_token", "[CLS]"},
                                                           {"mask_token", "[MASK]"}};
  static const auto* const kRoberta = new std::vector<std::pair<std::string, std::string>>{
      {"bos_token", "<s>"},   {"eos_token", "</s>"}, {"unk_token", "<unk>"},  {"sep_token", "</s>"},
      {"pad_token", "<pad>"}, {"cls_token", "<s>"},  {"mask_token", "<mask>"}};
  std::string_view base = cls;
  if (EndsWith(base, "Fast")) base.remove_suffix(4);
  if (base == "LlamaTokenizer") return kLlama;
  if (base == "GPT2Tokenizer") return kGpt2;
  if (base == "BertTokenizer") return kBert;
  if (base == "RobertaTokenizer" || base == "XLMRobertaTokenizer") return kRoberta;
  return nullptr;
}

// A token value: a string, an AddedToken object ({"content": …}), or null (unset).
absl::StatusOr<std::optional<std::string>> TokenValue(const Json& value, std::string_view file,
                                                      std::string_view key) {
  if (value.is_null()) return std::nullopt;
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object()) {
    auto it = value.find("content");
    if (it != value.end() && it->is_string()) return it->get<std::string>();
  }
  return absl::InvalidArgumentError(
      Cat(file, ": ", key, ": expected a token string or {\"content\": …}"));
}

absl::StatusOr<Json> ParseObject(const std::string& text, std::string_view file) {
  Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return absl::InvalidArgumentError(Cat(file, ": not a JSON object"));
  }
  return json;
}

// What the config files set, before defaults and ordering.
struct ConfigTokens {
  std::vector<std::pair<std::string, std::optional<std::string>>> named;  // set or cleared
  std::vector<std::pair<std::string, std::string>> model_specific;        // file order
  std::optional<std::vector<std::string>> extra;
  std::string tokenizer_class;

  void SetNamed(const std::string& key, std::optional<std::string> token) {
    for (auto& [k, v] : named) {
      if (k == key) {
        v = std::move(token);
        return;
      }
    }
    named.emplace_back(key, std::move(token));
  }
  void SetModelSpecific(const std::string& key, std::string token) {
    for (auto& [k, v] : model_specific) {
      if (k == key) {
        v = std::move(token);
        return;
      }
    }
    model_specific.emplace_back(key, std::move(token));
  }
};

absl::StatusOr<std::vector<std::string>> TokenList(const Json& value, std::string_view file,
                                                   std::string_view key) {
  std::vector<std::string> tokens;
  if (value.is_null()) return tokens;
  if (!value.is_array()) {
    return absl::InvalidArgumentError(Cat(file, ": ", key, ": expected a list"));
  }
  for (const Json& item : value) {
    ASSIGN_OR_RETURN(std::optional<std::string> token, TokenValue(item, file, key));
    if (token) tokens.push_back(std::move(*token));
  }
  return tokens;
}

// One file's keys into `out`. `legacy_map`: special_tokens_map.json (values override, lists
// merge into extra) rather than tokenizer_config.json.
absl::Status ReadKeys(const Json& json, std::string_view file, bool legacy_map, ConfigTokens* out) {
  // The deprecated list name counts only when the new one is absent.
  const bool has_extra = json.contains("extra_special_tokens");
  for (const auto& [key, value] : json.items()) {
    if (IsNamedAttribute(key)) {
      ASSIGN_OR_RETURN(std::optional<std::string> token, TokenValue(value, file, key));
      out->SetNamed(key, std::move(token));
    } else if (key == "extra_special_tokens" ||
               (key == "additional_special_tokens" && !has_extra)) {
      if (value.is_object()) {  // named model-specific tokens
        for (const auto& [name, token_value] : value.items()) {
          ASSIGN_OR_RETURN(std::optional<std::string> token,
                           TokenValue(token_value, file, Cat(key, ".", name)));
          if (token) out->SetModelSpecific(name, std::move(*token));
        }
        continue;
      }
      ASSIGN_OR_RETURN(std::vector<std::string> tokens, TokenList(value, file, key));
      if (legacy_map && out->extra) {
        for (std::string& t : tokens) {
          if (std::find(out->extra->begin(), out->extra->end(), t) == out->extra->end())
            out->extra->push_back(std::move(t));
        }
      } else {
        out->extra = std::move(tokens);
      }
    } else if (key == "tokenizer_class" && value.is_string()) {
      out->tokenizer_class = value.get<std::string>();
    } else if (EndsWith(key, "_token") && value.is_string()) {
      out->SetModelSpecific(key, value.get<std::string>());
    } else if (EndsWith(key, "_token") && value.is_object() &&
               (legacy_map || value.value("__type", "") == "AddedToken")) {
      ASSIGN_OR_RETURN(std::optional<std::string> token, TokenValue(value, file, key));
      if (token) out->SetModelSpecific(key, std::move(*token));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> SpecialTokensMap::AllSpecialTokens() const {
  std::vector<std::string> all;
  absl::flat_hash_set<std::string> seen;
  for (const auto& [attribute, token] : named) {
    if (seen.insert(token).second) all.push_back(token);
  }
  for (const std::string& token : extra) {
    if (seen.insert(token).second) all.push_back(token);
  }
  return all;
}

std::optional<std::string> SpecialTokensMap::Named(std::string_view attribute) const {
  for (const auto& [a, token] : named) {
    if (a == attribute) return token;
  }
  return std::nullopt;
}

absl::StatusOr<SpecialTokensMap> ParseSpecialTokensMap(const TokenizerConfigFiles& files) {
  ConfigTokens tokens;
  bool legacy = true;
  if (files.tokenizer_config_json) {
    ASSIGN_OR_RETURN(Json config,
                     ParseObject(*files.tokenizer_config_json, "tokenizer_config.json"));
    RETURN_IF_ERROR(ReadKeys(config, "tokenizer_config.json", /*legacy_map=*/false, &tokens));
    legacy = !config.contains("added_tokens_decoder");
  }
  if (legacy && files.special_tokens_map_json) {
    ASSIGN_OR_RETURN(Json map,
                     ParseObject(*files.special_tokens_map_json, "special_tokens_map.json"));
    RETURN_IF_ERROR(ReadKeys(map, "special_tokens_map.json", /*legacy_map=*/true, &tokens));
  }
  SpecialTokensMap result;
  const auto* defaults = ClassDefaults(tokens.tokenizer_class);
  for (const char* attribute : kNamedAttributes) {
    auto it = std::find_if(tokens.named.begin(), tokens.named.end(),
                           [&](const auto& kv) { return kv.first == attribute; });
    if (it != tokens.named.end()) {
      if (it->second) result.named.emplace_back(attribute, *it->second);
      continue;
    }
    if (defaults == nullptr) continue;
    for (const auto& [key, token] : *defaults) {
      if (key == attribute) result.named.emplace_back(attribute, token);
    }
  }
  for (auto& [key, token] : tokens.model_specific) result.named.emplace_back(key, token);
  if (tokens.extra) result.extra = std::move(*tokens.extra);
  return result;
}

absl::StatusOr<TokenizerConfigFiles> ReadTokenizerConfigFiles(const std::string& directory) {
  TokenizerConfigFiles files;
  auto read = [&](const char* name, std::optional<std::string>* out) -> absl::Status {
    const std::filesystem::path path = std::filesystem::path(directory) / name;
    std::error_code error;
    if (!std::filesystem::is_regular_file(path, error)) return absl::OkStatus();
    std::ifstream in(path, std::ios::binary);
    if (!in) return absl::NotFoundError(Cat("cannot open ", path.string()));
    std::stringstream buffer;
    buffer << in.rdbuf();
    *out = buffer.str();
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(read("tokenizer_config.json", &files.tokenizer_config_json));
  RETURN_IF_ERROR(read("special_tokens_map.json", &files.special_tokens_map_json));
  return files;
}

}  // namespace zett::tokenizer
