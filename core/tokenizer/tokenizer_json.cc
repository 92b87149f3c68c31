#include "core/tokenizer/tokenizer_json.h"

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/tokenizer/bpe_model.h"
#include "core/tokenizer/json_fields.h"
#include "core/tokenizer/unicode_text.h"
#include "core/tokenizer/unigram_model.h"
#include "core/tokenizer/wordpiece_model.h"
#include "core/util/status_macros.h"

namespace zett::tokenizer {

using json_fields::Json;

namespace {

absl::StatusOr<Vocab> VocabFromObject(const Json& model) {
  const Json* vocab = json_fields::Find(model, "vocab");
  if (vocab == nullptr || !vocab->is_object()) {
    return json_fields::Error("model.vocab", "expected an object {token: id}");
  }
  std::vector<std::pair<std::string, int32_t>> entries;
  entries.reserve(vocab->size());
  for (const auto& [token, id] : vocab->items()) {
    if (!id.is_number_integer()) {
      return json_fields::Error("model.vocab", Cat("id of '", token, "' is not an integer"));
    }
    const int64_t value = id.get<int64_t>();
    if (value < 0 || value > INT32_MAX) {
      return json_fields::Error("model.vocab", Cat("id ", value, " of '", token, "' out of range"));
    }
    entries.emplace_back(token, static_cast<int32_t>(value));
  }
  auto result = Vocab::Create(std::move(entries), "tokenizer.json: model.vocab");
  return result;
}

absl::StatusOr<std::unique_ptr<Model>> BpeFromJson(const Json& model) {
  ASSIGN_OR_RETURN(Vocab vocab, VocabFromObject(model));
  BpeOptions options;
  ASSIGN_OR_RETURN(options.unk_token, json_fields::OptionalString(model, "unk_token", "model"));
  ASSIGN_OR_RETURN(auto prefix,
                   json_fields::OptionalString(model, "continuing_subword_prefix", "model"));
  options.continuing_subword_prefix = prefix.value_or("");
  ASSIGN_OR_RETURN(auto suffix, json_fields::OptionalString(model, "end_of_word_suffix", "model"));
  options.end_of_word_suffix = suffix.value_or("");
  ASSIGN_OR_RETURN(options.fuse_unk, json_fields::Bool(model, "fuse_unk", "model", false));
  ASSIGN_OR_RETURN(options.byte_fallback,
                   json_fields::Bool(model, "byte_fallback", "model", false));
  ASSIGN_OR_RETURN(options.ignore_merges,
                   json_fields::Bool(model, "ignore_merges", "model", false));
  std::vector<std::pair<std::string, std::string>> merges;
  if (const Json* list = json_fields::Find(model, "merges")) {
    if (!list->is_array()) return json_fields::Error("model.merges", "expected an array");
    merges.reserve(list->size());
    for (size_t i = 0; i < list->size(); ++i) {
      const Json& m = (*list)[i];
      if (m.is_string()) {
        const std::string& line = m.get_ref<const std::string&>();
        const size_t space = line.find(' ');
        if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos) {
          return json_fields::Error(Cat("model.merges[", i, "]"),
                                    Cat("'", line, "' is not two tokens separated by a space"));
        }
        merges.emplace_back(line.substr(0, space), line.substr(space + 1));
      } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
        merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
      } else {
        return json_fields::Error(Cat("model.merges[", i, "]"),
                                  "expected \"a b\" or [\"a\", \"b\"]");
      }
    }
  }
  auto bpe = BpeModel::Create(std::move(vocab), merges, std::move(options));
  if (!bpe.ok()) return json_fields::Error("model", FromAbsl(bpe.status().message()));
  return std::unique_ptr<Model>(std::move(bpe).value());
}

absl::StatusOr<std::unique_ptr<Model>> UnigramFromJson(const Json& model) {
  const Json* vocab = json_fields::Find(model, "vocab");
  if (vocab == nullptr || !vocab->is_array()) {
    return json_fields::Error("model.vocab", "expected an array of [piece, score]");
  }
  std::vector<std::pair<std::string, double>> pieces;
  pieces.reserve(vocab->size());
  for (size_t i = 0; i < vocab->size(); ++i) {
    const Json& e = (*vocab)[i];
    if (!e.is_array() || e.size() != 2 || !e[0].is_string() || !e[1].is_number()) {
      return json_fields::Error(Cat("model.vocab[", i, "]"), "expected [piece, score]");
    }
    pieces.emplace_back(e[0].get<std::string>(), e[1].get<double>());
  }
  std::optional<int32_t> unk_id;
  if (json_fields::Find(model, "unk_id") != nullptr) {
    ASSIGN_OR_RETURN(int64_t id, json_fields::Int(model, "unk_id", "model", std::nullopt));
    unk_id = static_cast<int32_t>(id);
  }
  ASSIGN_OR_RETURN(bool byte_fallback, json_fields::Bool(model, "byte_fallback", "model", false));
  auto unigram = UnigramModel::Create(std::move(pieces), unk_id, byte_fallback);
  if (!unigram.ok()) return json_fields::Error("model", FromAbsl(unigram.status().message()));
  return std::unique_ptr<Model>(std::move(unigram).value());
}

absl::StatusOr<std::unique_ptr<Model>> ModelFromJson(const Json& model, std::string* type) {
  if (!model.is_object()) return json_fields::Error("model", "expected an object");
  if (const Json* t = json_fields::Find(model, "type")) {
    if (!t->is_string()) return json_fields::Error("model.type", "expected a string");
    *type = t->get<std::string>();
  } else {  // legacy files without "type"
    const Json* vocab = json_fields::Find(model, "vocab");
    if (json_fields::Find(model, "merges") != nullptr) {
      *type = "BPE";
    } else if (vocab != nullptr && vocab->is_array()) {
      *type = "Unigram";
    } else if (json_fields::Find(model, "continuing_subword_prefix") != nullptr) {
      *type = "WordPiece";
    } else {
      *type = "WordLevel";
    }
  }
  if (*type == "BPE") return BpeFromJson(model);
  if (*type == "Unigram") return UnigramFromJson(model);
  if (*type == "WordPiece" || *type == "WordLevel") {
    ASSIGN_OR_RETURN(Vocab vocab, VocabFromObject(model));
    ASSIGN_OR_RETURN(std::string unk,
                     json_fields::String(model, "unk_token", "model", std::string("[UNK]")));
    absl::StatusOr<std::unique_ptr<Model>> result;
    if (*type == "WordLevel") {
      auto m = WordLevelModel::Create(std::move(vocab), std::move(unk));
      if (!m.ok()) return json_fields::Error("model", FromAbsl(m.status().message()));
      return std::unique_ptr<Model>(std::move(m).value());
    }
    ASSIGN_OR_RETURN(std::string prefix, json_fields::String(model, "continuing_subword_prefix",
                                                             "model", std::string("##")));
    ASSIGN_OR_RETURN(int64_t max_chars,
                     json_fields::Int(model, "max_input_chars_per_word", "model", 100));
    auto m = WordPieceModel::Create(std::move(vocab), std::move(unk), std::move(prefix),
                                    static_cast<int>(max_chars));
    if (!m.ok()) return json_fields::Error("model", FromAbsl(m.status().message()));
    return std::unique_ptr<Model>(std::move(m).value());
  }
  return json_fields::Error("model.type", Cat("unknown model type '", *type, "'"));
}

absl::StatusOr<std::vector<AddedToken>> AddedTokensFromJson(const Json& root) {
  std::vector<AddedToken> tokens;
  const Json* list = json_fields::Find(root, "added_tokens");
  if (list == nullptr) return tokens;
  if (!list->is_array()) return json_fields::Error("added_tokens", "expected an array");
  for (size_t i = 0; i < list->size(); ++i) {
    const Json& e = (*list)[i];
    const std::string path = Cat("added_tokens[", i, "]");
    AddedToken t;
    ASSIGN_OR_RETURN(int64_t id, json_fields::Int(e, "id", path, std::nullopt));
    if (id < 0 || id > INT32_MAX) return json_fields::Error(path, Cat("id ", id, " out of range"));
    t.id = static_cast<int32_t>(id);
    ASSIGN_OR_RETURN(t.content, json_fields::String(e, "content", path));
    ASSIGN_OR_RETURN(t.special, json_fields::Bool(e, "special", path, false));
    ASSIGN_OR_RETURN(t.single_word, json_fields::Bool(e, "single_word", path, false));
    ASSIGN_OR_RETURN(t.lstrip, json_fields::Bool(e, "lstrip", path, false));
    ASSIGN_OR_RETURN(t.rstrip, json_fields::Bool(e, "rstrip", path, false));
    ASSIGN_OR_RETURN(t.normalized, json_fields::Bool(e, "normalized", path, !t.special));
    tokens.push_back(std::move(t));
  }
  return tokens;
}

bool HasByteLevelPreTokenizer(const Json& root) {
  const Json* p = json_fields::Find(root, "pre_tokenizer");
  if (p == nullptr) return false;
  if (p->value("type", "") == "ByteLevel") return true;
  if (p->value("type", "") != "Sequence") return false;
  const Json* list = json_fields::Find(*p, "pretokenizers");
  if (list == nullptr || !list->is_array()) return false;
  for (const Json& q : *list) {
    if (q.is_object() && q.value("type", "") == "ByteLevel") return true;
  }
  return false;
}

absl::StatusOr<std::unique_ptr<Tokenizer>> FromParsedJson(const Json& root) {
  if (!root.is_object()) return json_fields::Error("", "top level is not an object");
  Tokenizer::Components c;
  const Json* model = json_fields::Find(root, "model");
  if (model == nullptr) return json_fields::Error("model", "missing");
  std::string type;
  ASSIGN_OR_RETURN(c.model, ModelFromJson(*model, &type));
  if (const Json* n = json_fields::Find(root, "normalizer")) {
    ASSIGN_OR_RETURN(c.normalizer, NormalizerFromJson(*n, "normalizer"));
  }
  if (const Json* p = json_fields::Find(root, "pre_tokenizer")) {
    ASSIGN_OR_RETURN(c.pre_tokenizer, PreTokenizerFromJson(*p, "pre_tokenizer"));
  }
  if (const Json* p = json_fields::Find(root, "post_processor")) {
    ASSIGN_OR_RETURN(c.post_processor, PostProcessor::FromJson(*p, "post_processor"));
  }
  ASSIGN_OR_RETURN(c.added_tokens, AddedTokensFromJson(root));
  c.byte_level = HasByteLevelPreTokenizer(root);
  ASSIGN_OR_RETURN(c.continuing_subword_prefix,
                   json_fields::OptionalString(*model, "continuing_subword_prefix", "model"));
  auto tokenizer = Tokenizer::Create(std::move(c));
  if (!tokenizer.ok()) return json_fields::Error("", FromAbsl(tokenizer.status().message()));
  return tokenizer;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizerJson(std::string_view json_text) {
  Json root;
  try {
    root = Json::parse(json_text.begin(), json_text.end());
  } catch (const Json::parse_error& e) {
    return absl::InvalidArgumentError(
        Cat("tokenizer.json: invalid JSON at byte ", e.byte, ": ", e.what()));
  } catch (const Json::exception& e) {  // e.g. number overflow (found by the fuzzer)
    return absl::InvalidArgumentError(Cat("tokenizer.json: invalid JSON: ", e.what()));
  }
  try {
    return FromParsedJson(root);
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(Cat("tokenizer.json: ", e.what()));
  }
}

}  // namespace zett::tokenizer
