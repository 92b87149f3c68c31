#include "client/apply/transferred_model.h"

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/apply/model_folder.h"
#include "core/io/json_file.h"
#include "core/model/hf_config.h"
#include "core/tokenizer/sentencepiece_to_json.h"
#include "core/tokenizer/special_tokens_map.h"
#include "core/tokenizer/surface_form.h"
#include "core/tokenizer/tokenizer.h"
#include "core/tokenizer/tokenizer_file.h"
#include "core/transfer/source_embeddings.h"
#include "core/util/status_macros.h"

namespace zett::apply {
namespace {

namespace fs = std::filesystem;

constexpr char kIndexFile[] = "model.safetensors.index.json";
constexpr char kSingleFile[] = "model.safetensors";

std::string ShapeOf(const at::Tensor& tensor) {
  std::string out = "[";
  for (int64_t i = 0; i < tensor.dim(); ++i) {
    absl::StrAppend(&out, i ? ", " : "", tensor.size(i));
  }
  return out + "]";
}

// "<s>" or {"content": "<s>", ...} (both spellings transformers writes); nullopt otherwise.
std::optional<std::string> TokenString(const nlohmann::json& config, const char* key) {
  if (!config.is_object() || !config.contains(key)) return std::nullopt;
  const nlohmann::json& value = config[key];
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object() && value.contains("content") && value["content"].is_string()) {
    return value["content"].get<std::string>();
  }
  return std::nullopt;
}

struct SpecialTokens {
  SpecialToken bos, eos, pad, unk;
  std::string source;
  nlohmann::json config;  // the target tokenizer_config.json, when one was found
};

// Special-token strings: the target's tokenizer_config.json (given or beside the tokenizer
// file), else a .model's own pieces, else the base model's strings; each role gets the target
// id of its string, or none.
absl::StatusOr<SpecialTokens> FindSpecialTokens(const std::string& base_dir,
                                                const TargetTokenizer& file,
                                                const ApplyOptions& options,
                                                const tokenizer::Tokenizer& target) {
  SpecialTokens out;
  nlohmann::json strings;
  std::string config_path = options.tokenizer_config;
  if (config_path.empty()) {
    const fs::path beside = fs::path(file.path).parent_path() / "tokenizer_config.json";
    if (fs::exists(beside)) config_path = beside.string();
  }
  if (!config_path.empty()) {
    ASSIGN_OR_RETURN(out.config, ReadJsonFile(config_path));
    strings = out.config;
    out.source = config_path;
  } else if (file.converted) {
    strings = nlohmann::json::object();
    for (const auto& [key, piece] : file.sentencepiece_special) strings[key] = piece;
    out.source = absl::StrCat(file.path, " (the SentencePiece model's unk/bos/eos/pad ids)");
  } else {
    for (const char* name : {"tokenizer_config.json", "special_tokens_map.json"}) {
      const fs::path path = fs::path(base_dir) / name;
      if (!fs::exists(path)) continue;
      ASSIGN_OR_RETURN(strings, ReadJsonFile(path.string()));
      out.source = absl::StrCat(path.string(), " (base strings found in the target)");
      break;
    }
    if (out.source.empty()) out.source = "none (no tokenizer_config.json)";
  }
  auto resolve = [&](const char* key, SpecialToken* token) {
    std::optional<std::string> content = TokenString(strings, key);
    if (!content) return;
    // A string the target vocabulary lacks means "no such token" (naming it anyway would make
    // AutoTokenizer add it as a new token beyond the transferred rows).
    std::optional<int32_t> id = target.TokenToId(*content);
    if (!id) return;
    token->content = content;
    token->id = *id;
  };
  resolve("bos_token", &out.bos);
  resolve("eos_token", &out.eos);
  resolve("pad_token", &out.pad);
  resolve("unk_token", &out.unk);
  return out;
}

nlohmann::json IdOrNull(const SpecialToken& token) {
  return token.id ? nlohmann::json(*token.id) : nlohmann::json(nullptr);
}
nlohmann::json ContentOrNull(const SpecialToken& token) {
  return token.content ? nlohmann::json(*token.content) : nlohmann::json(nullptr);
}

// The shard files of a checkpoint folder: {"model.safetensors"} or the index's shards.
absl::StatusOr<std::vector<std::string>> ShardFiles(const std::string& base_dir,
                                                    nlohmann::json* index) {
  const fs::path index_path = fs::path(base_dir) / kIndexFile;
  if (!fs::exists(index_path)) {
    if (!fs::exists(fs::path(base_dir) / kSingleFile)) {
      return absl::NotFoundError(
          absl::StrCat(base_dir, ": neither ", kSingleFile, " nor ", kIndexFile));
    }
    return std::vector<std::string>{kSingleFile};
  }
  ASSIGN_OR_RETURN(*index, ReadJsonFile(index_path.string()));
  if (!index->contains("weight_map") || !(*index)["weight_map"].is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(index_path.string(), ": no weight_map object"));
  }
  std::set<std::string> files;
  for (const auto& [name, shard] : (*index)["weight_map"].items()) {
    if (!shard.is_string() || shard.get<std::string>().find('/') != std::string::npos ||
        shard.get<std::string>() == "..") {
      return absl::InvalidArgumentError(
          absl::StrCat(index_path.string(), ": shard of \"", name, "\" is not a file name"));
    }
    files.insert(shard.get<std::string>());
  }
  return std::vector<std::string>(files.begin(), files.end());
}

class Writer {
 public:
  Writer(std::string base_dir, std::string staging)
      : base_(std::move(base_dir)), staging_(std::move(staging)) {}

  absl::StatusOr<ApplySummary> Run(const TargetTokenizer& file,
                                   const TransferredEmbeddings& transferred,
                                   const ApplyOptions& options);

 private:
  absl::Status MapRows(const tokenizer::Tokenizer& target, const SpecialTokens& special,
                       const TransferredEmbeddings& transferred);
  absl::Status ReplaceEmbeddings(const std::string& shard, TensorMap* tensors);
  absl::Status WriteConfigs(const SpecialTokens& special);
  absl::Status WriteTokenizerFiles(const std::string& tokenizer_json, const SpecialTokens& special,
                                   int64_t max_positions);  // tokenizer_json: the text
  std::string Out(const std::string& name) const { return (fs::path(staging_) / name).string(); }

  std::string base_;
  std::string staging_;
  nlohmann::json config_;
  EmbeddingTensorNames names_;
  bool tied_ = false;
  at::Tensor input_, output_;  // transferred
  ApplySummary summary_;
  bool saw_input_ = false, saw_output_ = false;
};

absl::Status Writer::ReplaceEmbeddings(const std::string& shard, TensorMap* tensors) {
  auto replace = [&](const std::string& name, const at::Tensor& with) -> absl::Status {
    auto it = tensors->find(name);
    if (it == tensors->end()) return absl::OkStatus();
    const at::Tensor& base = it->second;
    if (base.dim() != 2 || base.size(1) != with.size(1)) {
      return absl::InvalidArgumentError(
          absl::StrCat("hidden size differs: ", base_, "/", shard, " has \"", name, "\" ",
                       ShapeOf(base), " but the transferred embeddings are ", ShapeOf(with),
                       " (transferred for a different base model?)"));
    }
    it->second = with.to(base.scalar_type()).contiguous();
    summary_.replaced_tensors.push_back(name);
    return absl::OkStatus();
  };
  if (tensors->count(names_.input)) saw_input_ = true;
  RETURN_IF_ERROR(replace(names_.input, input_));
  if (tensors->count(names_.output)) {
    saw_output_ = true;
    // A tied checkpoint that stores the head anyway keeps it equal to the input table.
    RETURN_IF_ERROR(replace(names_.output, tied_ ? input_ : output_));
  }
  return absl::OkStatus();
}

absl::Status Writer::WriteConfigs(const SpecialTokens& special) {
  nlohmann::json config = config_;
  config["vocab_size"] = summary_.vocab_size;
  config["bos_token_id"] = IdOrNull(special.bos);
  config["eos_token_id"] = IdOrNull(special.eos);
  config["pad_token_id"] = IdOrNull(special.pad);
  RETURN_IF_ERROR(WriteJsonFile(Out("config.json"), config));

  const fs::path generation = fs::path(base_) / "generation_config.json";
  if (fs::exists(generation)) {
    ASSIGN_OR_RETURN(nlohmann::json gen, ReadJsonFile(generation.string()));
    if (!gen.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat(generation.string(), ": not an object"));
    }
    gen["bos_token_id"] = IdOrNull(special.bos);
    gen["eos_token_id"] = IdOrNull(special.eos);
    gen["pad_token_id"] = IdOrNull(special.pad);
    // Ids of the base vocabulary mean nothing in the target one.
    for (const char* key : {"decoder_start_token_id", "forced_bos_token_id", "forced_eos_token_id",
                            "suppress_tokens", "begin_suppress_tokens", "bad_words_ids"}) {
      gen.erase(key);
    }
    RETURN_IF_ERROR(WriteJsonFile(Out("generation_config.json"), gen));
  }
  return absl::OkStatus();
}

absl::Status Writer::WriteTokenizerFiles(const std::string& bytes, const SpecialTokens& special,
                                         int64_t max_positions) {
  RETURN_IF_ERROR(WriteStringToFile(Out("tokenizer.json"), bytes));

  // PreTrainedTokenizerFast reads everything else (model, added tokens, post-processor) from
  // tokenizer.json; the config only names the special tokens.
  nlohmann::json config = {{"tokenizer_class", "PreTrainedTokenizerFast"},
                           {"bos_token", ContentOrNull(special.bos)},
                           {"eos_token", ContentOrNull(special.eos)},
                           {"pad_token", ContentOrNull(special.pad)},
                           {"unk_token", ContentOrNull(special.unk)},
                           {"clean_up_tokenization_spaces", false},
                           {"model_max_length", max_positions}};
  for (const char* key : {"clean_up_tokenization_spaces", "model_max_length", "padding_side",
                          "truncation_side", "model_input_names"}) {
    if (special.config.is_object() && special.config.contains(key)) {
      config[key] = special.config[key];
    }
  }
  // transformers rewrites a top-level pre-tokenizer whose add_prefix_space differs from the
  // config's (default false); stating the file's own value keeps tokenizer.json authoritative.
  const nlohmann::json parsed = nlohmann::json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object() && parsed.contains("pre_tokenizer") &&
      parsed["pre_tokenizer"].is_object() && parsed["pre_tokenizer"].contains("add_prefix_space") &&
      parsed["pre_tokenizer"]["add_prefix_space"].is_boolean()) {
    config["add_prefix_space"] = parsed["pre_tokenizer"]["add_prefix_space"];
  }
  RETURN_IF_ERROR(WriteJsonFile(Out("tokenizer_config.json"), config));

  nlohmann::json map = nlohmann::json::object();
  for (const auto& [key, token] :
       std::vector<std::pair<const char*, const SpecialToken*>>{{"bos_token", &special.bos},
                                                                {"eos_token", &special.eos},
                                                                {"pad_token", &special.pad},
                                                                {"unk_token", &special.unk}}) {
    if (token->content) map[key] = *token->content;
  }
  return WriteJsonFile(Out("special_tokens_map.json"), map);
}

absl::Status Writer::MapRows(const tokenizer::Tokenizer& target, const SpecialTokens& special,
                             const TransferredEmbeddings& transferred) {
  const int64_t vocab = target.vocab_size();
  const int64_t rows = input_.size(0);
  if (transferred.tokens.empty()) {
    if (rows != vocab) {
      return absl::InvalidArgumentError(
          absl::StrCat("the transfer has ", rows, " rows but the target tokenizer has ", vocab,
                       " ids (transferred for a different tokenizer?)"));
    }
    summary_.rows_by_surface_form = vocab;
    return absl::OkStatus();
  }
  if (static_cast<int64_t>(transferred.tokens.size()) != rows ||
      transferred.special.size() != transferred.tokens.size()) {
    return absl::InvalidArgumentError(absl::StrCat("the transfer's vocabulary table has ",
                                                   transferred.tokens.size(), " entries for ", rows,
                                                   " rows"));
  }
  absl::flat_hash_map<std::string, int64_t> normal_rows, special_rows;
  for (int64_t row = 0; row < rows; ++row) {
    (transferred.special[row] ? special_rows : normal_rows).emplace(transferred.tokens[row], row);
  }
  // The target's surface forms as the transfer made them (whitespace made consistent, zett's
  // default), and without, for a transfer that turned it off.
  tokenizer::ConversionOptions consistent;
  consistent.make_whitespace_consistent = true;
  ASSIGN_OR_RETURN(tokenizer::ByteLevelVocabulary converted,
                   tokenizer::ConvertToByteLevel(target, consistent));
  ASSIGN_OR_RETURN(tokenizer::ByteLevelVocabulary plain, tokenizer::ConvertToByteLevel(target));
  // What transformers calls special in the target (its config files); every other token,
  // special=true in tokenizer.json or not, has a row of its own text.
  absl::flat_hash_set<int32_t> target_specials;
  for (const auto& [id, content] : target.AllSpecialTokens()) target_specials.insert(id);
  // Base special-token strings by role, for target specials the table replaced.
  nlohmann::json base_strings;
  for (const char* name : {"tokenizer_config.json", "special_tokens_map.json"}) {
    const fs::path path = fs::path(base_) / name;
    if (!fs::exists(path)) continue;
    ASSIGN_OR_RETURN(base_strings, ReadJsonFile(path.string()));
    break;
  }
  const std::vector<std::pair<const char*, const SpecialToken*>> roles = {
      {"eos_token", &special.eos},
      {"bos_token", &special.bos},
      {"pad_token", &special.pad},
      {"unk_token", &special.unk}};
  std::vector<int64_t> gather(vocab, 0);
  std::vector<int64_t> missing;
  for (int64_t id = 0; id < vocab; ++id) {
    const std::string content(target.IdToToken(static_cast<int32_t>(id)));
    auto surface_of = [&](const tokenizer::ByteLevelVocabulary& v) {
      return id < static_cast<int64_t>(v.surface_forms.size()) ? v.surface_forms[id] : content;
    };
    int64_t row = -1;
    if (target_specials.contains(static_cast<int32_t>(id))) {
      if (auto it = special_rows.find(content); it != special_rows.end()) {
        row = it->second;
      } else {
        for (const auto& [role, token] : roles) {
          if (!token->content || *token->content != content) continue;
          std::optional<std::string> base_string = TokenString(base_strings, role);
          if (!base_string) continue;
          if (auto it = special_rows.find(*base_string); it != special_rows.end()) {
            row = it->second;
            ++summary_.rows_by_role;
            break;
          }
        }
      }
    }
    if (row < 0) {
      for (const std::string& key : {surface_of(converted), surface_of(plain), content}) {
        if (auto it = normal_rows.find(key); it != normal_rows.end()) {
          row = it->second;
          ++summary_.rows_by_surface_form;
          break;
        }
      }
    }
    if (row < 0) missing.push_back(id);
    gather[id] = row < 0 ? 0 : row;
  }
  summary_.rows_mean = static_cast<int64_t>(missing.size());
  const at::Tensor gather_index = at::tensor(gather, at::kLong);
  auto remap = [&](const at::Tensor& table) {
    at::Tensor out = table.index_select(0, gather_index);
    if (!missing.empty()) {
      const at::Tensor mean =
          table.to(at::kFloat).mean(0, /*keepdim=*/true).to(table.scalar_type());
      out.index_copy_(0, at::tensor(missing, at::kLong),
                      mean.expand({static_cast<int64_t>(missing.size()), -1}));
    }
    return out;
  };
  input_ = remap(input_);
  if (output_.defined()) output_ = remap(output_);
  summary_.vocab_size = vocab;
  return absl::OkStatus();
}

absl::StatusOr<ApplySummary> Writer::Run(const TargetTokenizer& file,
                                         const TransferredEmbeddings& transferred,
                                         const ApplyOptions& options) {
  const TensorMap& embeddings = transferred.tensors;
  const std::string config_path = (fs::path(base_) / "config.json").string();
  ASSIGN_OR_RETURN(config_, ReadJsonFile(config_path));
  auto architecture = ArchitectureFromConfig(config_);
  if (!architecture.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(config_path, ": ", architecture.status().message()));
  }
  if (!IsDecoder(*architecture)) {
    // XLM-R / RoBERTa derive position ids from pad_token_id, which a new vocabulary moves.
    return absl::UnimplementedError(
        absl::StrCat(config_path, ": apply supports decoder models (Llama, Mistral, Qwen2), not ",
                     ArchitectureName(*architecture)));
  }
  auto decoder = ParseDecoderConfig(config_);
  if (!decoder.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(config_path, ": ", decoder.status().message()));
  }
  summary_.architecture = ArchitectureName(*architecture);
  tied_ = decoder->tie_word_embeddings;
  summary_.tied = tied_;
  ASSIGN_OR_RETURN(names_, EmbeddingTensorNamesFor(summary_.architecture));

  auto input = embeddings.find(kInputEmbeddings);
  if (input == embeddings.end() || input->second.dim() != 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("the transfer has no 2-D \"", kInputEmbeddings, "\" matrix"));
  }
  input_ = input->second;
  summary_.vocab_size = input_.size(0);
  summary_.hidden_size = input_.size(1);
  auto output = embeddings.find(kOutputEmbeddings);
  if (tied_ && output != embeddings.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat(base_, " ties its embeddings but the transfer has untied \"",
                     kOutputEmbeddings, "\" (transferred for a different base model?)"));
  }
  if (!tied_) {
    if (output == embeddings.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(base_, " has an untied LM head but the transfer has no \"",
                       kOutputEmbeddings, "\" matrix"));
    }
    output_ = output->second;
    if (!output_.sizes().equals(input_.sizes())) {
      return absl::InvalidArgumentError(absl::StrCat("transferred \"", kOutputEmbeddings, "\" ",
                                                     ShapeOf(output_), " and \"", kInputEmbeddings,
                                                     "\" ", ShapeOf(input_), " differ in shape"));
    }
  }

  const std::string directory = fs::path(file.path).parent_path().string();
  ASSIGN_OR_RETURN(tokenizer::TokenizerConfigFiles config_files,
                   tokenizer::ReadTokenizerConfigFiles(directory.empty() ? "." : directory));
  absl::StatusOr<std::unique_ptr<tokenizer::Tokenizer>> loaded =
      tokenizer::LoadTokenizerBytes(file.json, config_files);
  if (!loaded.ok()) {
    return absl::Status(loaded.status().code(),
                        absl::StrCat(file.path, file.converted ? " (converted)" : "", ": ",
                                     loaded.status().message()));
  }
  const std::unique_ptr<tokenizer::Tokenizer> target = *std::move(loaded);
  ASSIGN_OR_RETURN(SpecialTokens special, FindSpecialTokens(base_, file, options, *target));
  RETURN_IF_ERROR(MapRows(*target, special, transferred));
  summary_.bos = special.bos;
  summary_.eos = special.eos;
  summary_.pad = special.pad;
  summary_.unk = special.unk;
  summary_.special_tokens_source = special.source;
  summary_.tokenizer_converted = file.converted;

  nlohmann::json index;
  ASSIGN_OR_RETURN(std::vector<std::string> shards, ShardFiles(base_, &index));
  uint64_t total_bytes = 0;
  for (const std::string& shard : shards) {
    SafetensorsMetadata metadata;
    ASSIGN_OR_RETURN(TensorMap tensors,
                     ReadSafetensors((fs::path(base_) / shard).string(), &metadata));
    RETURN_IF_ERROR(ReplaceEmbeddings(shard, &tensors));
    for (const auto& [name, tensor] : tensors) total_bytes += tensor.nbytes();
    RETURN_IF_ERROR(WriteSafetensors(Out(shard), tensors, metadata));
  }
  if (!saw_input_) {
    return absl::NotFoundError(absl::StrCat(base_, ": no tensor \"", names_.input, "\""));
  }
  if (!tied_ && !saw_output_) {
    return absl::NotFoundError(absl::StrCat(
        base_, ": tie_word_embeddings is false but there is no \"", names_.output, "\""));
  }
  if (!index.is_null()) {
    if (!index.contains("metadata") || !index["metadata"].is_object()) {
      index["metadata"] = nlohmann::json::object();
    }
    index["metadata"]["total_size"] = total_bytes;
    RETURN_IF_ERROR(WriteJsonFile(Out(kIndexFile), index));
  }
  RETURN_IF_ERROR(WriteConfigs(special));
  RETURN_IF_ERROR(WriteTokenizerFiles(file.json, special, decoder->max_position_embeddings));
  return summary_;
}

}  // namespace

absl::StatusOr<TargetTokenizer> ReadTargetTokenizer(const std::string& path) {
  if (!fs::exists(path)) {
    return absl::NotFoundError(absl::StrCat("target tokenizer ", path, " does not exist"));
  }
  TargetTokenizer out;
  out.path = path;
  if (absl::EndsWith(path, ".json")) {
    ASSIGN_OR_RETURN(out.json, ReadFileToString(path));
    return out;
  }
  if (!absl::EndsWith(path, ".model")) {
    return absl::InvalidArgumentError(
        absl::StrCat("apply needs the target as a Hugging Face tokenizer.json or a SentencePiece "
                     ".model, got ",
                     path));
  }
  ASSIGN_OR_RETURN(const std::string bytes, ReadFileToString(path));
  absl::StatusOr<tokenizer::SentencePieceModelProto> proto =
      tokenizer::ParseSentencePieceModel(bytes);
  if (!proto.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a valid SentencePiece .model (",
                                                   proto.status().message(), ")"));
  }
  absl::StatusOr<std::string> json = tokenizer::SentencePieceToTokenizerJson(*proto);
  if (!json.ok()) {
    return absl::Status(
        json.status().code(),
        absl::StrCat(path, ": cannot convert to tokenizer.json: ", json.status().message()));
  }
  out.json = *std::move(json);
  out.converted = true;
  const int n = static_cast<int>(proto->pieces.size());
  for (const auto& [key, id] :
       std::vector<std::pair<const char*, int>>{{"bos_token", proto->bos_id},
                                                {"eos_token", proto->eos_id},
                                                {"pad_token", proto->pad_id},
                                                {"unk_token", proto->unk_id}}) {
    if (id >= 0 && id < n) out.sentencepiece_special.emplace_back(key, proto->pieces[id].piece);
  }
  return out;
}

absl::StatusOr<ApplySummary> WriteTransferredModel(const std::string& base_dir,
                                                   const std::string& tokenizer_json,
                                                   const TransferredEmbeddings& embeddings,
                                                   const std::string& out_dir,
                                                   const ApplyOptions& options) {
  if (!fs::is_directory(base_dir)) {
    return absl::NotFoundError(absl::StrCat("base model folder ", base_dir, " does not exist"));
  }
  ASSIGN_OR_RETURN(const TargetTokenizer target, ReadTargetTokenizer(tokenizer_json));
  RETURN_IF_ERROR(CheckOutDir(out_dir, {{base_dir, "the base model folder"}}, options.force));
  absl::StatusOr<ApplySummary> summary;
  RETURN_IF_ERROR(WriteThroughStaging(out_dir, [&](const std::string& staging) {
    Writer writer(base_dir, staging);
    summary = writer.Run(target, embeddings, options);
    return summary.status();
  }));
  return summary;
}

}  // namespace zett::apply
