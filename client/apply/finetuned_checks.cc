#include "client/apply/finetuned_checks.h"

#include <filesystem>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/io/json_file.h"
#include "core/model/hf_config.h"
#include "core/model/state_dict.h"
#include "core/tokenizer/tokenizer_file.h"
#include "core/util/status_macros.h"

namespace zett::apply {
namespace {

namespace fs = std::filesystem;

std::string Describe(const FolderModel& model) { return absl::StrCat(model.role, " ", model.dir); }

absl::Status Differs(const FolderModel& base, const FolderModel& other, const std::string& what,
                     const std::string& base_value, const std::string& other_value) {
  return absl::InvalidArgumentError(absl::StrCat(what, " differs: ", Describe(base), " has ",
                                                 base_value, ", ", Describe(other), " has ",
                                                 other_value));
}

// Up to three names, for messages about sets of tensors.
std::string FirstNames(const std::vector<std::string>& names) {
  std::vector<std::string> first(names.begin(), names.begin() + std::min<size_t>(3, names.size()));
  return absl::StrCat(absl::StrJoin(first, ", "), names.size() > 3 ? ", ..." : "");
}

bool IsEmbedding(const std::string& name, const std::vector<std::string>& embedding) {
  return std::find(embedding.begin(), embedding.end(), name) != embedding.end();
}

// The folder's tokenizer file (tokenizer.json, else tokenizer.model), or "" when it has none.
std::string TokenizerFileOf(const std::string& dir) {
  for (const char* name : {"tokenizer.json", "tokenizer.model"}) {
    const fs::path path = fs::path(dir) / name;
    if (fs::exists(path)) return path.string();
  }
  return "";
}

}  // namespace

absl::StatusOr<FolderModel> ReadFolderModel(const std::string& dir, const std::string& role) {
  if (!fs::is_directory(dir)) {
    return absl::NotFoundError(absl::StrCat(role, " model folder ", dir, " does not exist"));
  }
  FolderModel model;
  model.dir = dir;
  model.role = role;
  ASSIGN_OR_RETURN(model.config, ReadJsonFile((fs::path(dir) / "config.json").string()));
  ASSIGN_OR_RETURN(model.tensors, ReadSafetensorsDir(dir));
  return model;
}

absl::Status CheckSameBody(const FolderModel& base, const FolderModel& other,
                           const std::vector<std::string>& embedding) {
  auto decoder = [](const FolderModel& model) -> absl::StatusOr<DecoderConfig> {
    absl::StatusOr<DecoderConfig> config = ParseDecoderConfig(model.config);
    if (!config.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(model.dir, "/config.json: ", config.status().message()));
    }
    return config;
  };
  ASSIGN_OR_RETURN(const DecoderConfig a, decoder(base));
  ASSIGN_OR_RETURN(const DecoderConfig b, decoder(other));
  if (a.architecture != b.architecture) {
    return Differs(base, other, "architecture", ArchitectureName(a.architecture),
                   ArchitectureName(b.architecture));
  }
  if (a.hidden_size != b.hidden_size) {
    return Differs(base, other, "hidden size", absl::StrCat(a.hidden_size),
                   absl::StrCat(b.hidden_size));
  }
  if (a.num_hidden_layers != b.num_hidden_layers) {
    return Differs(base, other, "number of layers", absl::StrCat(a.num_hidden_layers),
                   absl::StrCat(b.num_hidden_layers));
  }
  if (a.tie_word_embeddings != b.tie_word_embeddings) {
    auto tied = [](bool t) { return t ? "tied embeddings" : "an untied LM head"; };
    return Differs(base, other, "LM head", tied(a.tie_word_embeddings),
                   tied(b.tie_word_embeddings));
  }
  std::vector<std::string> missing, extra;
  for (const auto& [name, tensor] : base.tensors) {
    if (IsEmbedding(name, embedding)) continue;
    auto it = other.tensors.find(name);
    if (it == other.tensors.end()) {
      missing.push_back(name);
    } else if (!it->second.sizes().equals(tensor.sizes())) {
      return Differs(base, other, absl::StrCat("shape of \"", name, "\""),
                     ShapeString(tensor.sizes()), ShapeString(it->second.sizes()));
    }
  }
  for (const auto& [name, tensor] : other.tensors) {
    if (!IsEmbedding(name, embedding) && !base.tensors.count(name)) extra.push_back(name);
  }
  if (!missing.empty() || !extra.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "layers differ: ", Describe(other), missing.empty() ? "" : " lacks ", FirstNames(missing),
        !missing.empty() && !extra.empty() ? " and" : "", extra.empty() ? "" : " has ",
        FirstNames(extra), extra.empty() ? "" : " that the base lacks", " (", Describe(base), ")"));
  }
  return absl::OkStatus();
}

absl::Status CheckSameVocabulary(const FolderModel& base, const FolderModel& finetuned,
                                 const std::string& input_embedding) {
  const std::string advice =
      " (a fine-tuned model with added or changed tokens does not fit the base's transfer)";
  const int64_t base_size = base.config.value("vocab_size", int64_t{-1});
  const int64_t ft_size = finetuned.config.value("vocab_size", int64_t{-1});
  if (base_size != ft_size) {
    return absl::InvalidArgumentError(absl::StrCat("vocabulary differs: ", Describe(base),
                                                   " has vocab_size ", base_size, ", ",
                                                   Describe(finetuned), " has ", ft_size, advice));
  }
  auto base_rows = base.tensors.find(input_embedding);
  auto ft_rows = finetuned.tensors.find(input_embedding);
  if (base_rows == base.tensors.end() || ft_rows == finetuned.tensors.end()) {
    return absl::NotFoundError(
        absl::StrCat("no tensor \"", input_embedding, "\" in ",
                     base_rows == base.tensors.end() ? Describe(base) : Describe(finetuned)));
  }
  if (base_rows->second.size(0) != ft_rows->second.size(0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "vocabulary differs: ", Describe(base), " has ", base_rows->second.size(0),
        " embedding rows, ", Describe(finetuned), " has ", ft_rows->second.size(0), advice));
  }
  const std::string base_file = TokenizerFileOf(base.dir);
  const std::string ft_file = TokenizerFileOf(finetuned.dir);
  if (base_file.empty() || ft_file.empty()) {
    return absl::NotFoundError(
        absl::StrCat("no tokenizer.json or tokenizer.model in ",
                     base_file.empty() ? Describe(base) : Describe(finetuned),
                     ": cannot check that the fine-tuned vocabulary is the base's"));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<tokenizer::Tokenizer> a,
                   tokenizer::LoadTokenizerFile(base_file));
  ASSIGN_OR_RETURN(std::unique_ptr<tokenizer::Tokenizer> b, tokenizer::LoadTokenizerFile(ft_file));
  if (a->vocab_size() != b->vocab_size()) {
    return absl::InvalidArgumentError(absl::StrCat("vocabulary differs: ", base_file, " has ",
                                                   a->vocab_size(), " ids, ", ft_file, " has ",
                                                   b->vocab_size(), advice));
  }
  for (int32_t id = 0; id < a->vocab_size(); ++id) {
    if (a->IdToToken(id) != b->IdToToken(id)) {
      const std::string base_token(a->IdToToken(id));
      const std::string ft_token(b->IdToToken(id));
      return absl::InvalidArgumentError(absl::StrCat("vocabulary differs: id ", id, " is \"",
                                                     base_token, "\" in ", base_file, " but \"",
                                                     ft_token, "\" in ", ft_file, advice));
    }
  }
  return absl::OkStatus();
}

}  // namespace zett::apply
