#include "client/apply/finetuned_model.h"

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "client/apply/finetuned_checks.h"
#include "client/apply/model_folder.h"
#include "core/io/json_file.h"
#include "core/model/hf_config.h"
#include "core/transfer/source_embeddings.h"
#include "core/util/status_macros.h"

namespace zett::apply {
namespace {

namespace fs = std::filesystem;

constexpr char kIndexFile[] = "model.safetensors.index.json";
constexpr char kSingleFile[] = "model.safetensors";

// Files of the fine-tuned folder that the output does not take as they are: the weights and the
// configs are rewritten, the tokenizer is the target's, trainer state belongs to the old run.
bool IsRewrittenOrDropped(const std::string& name) {
  static const std::set<std::string> kNames = {"config.json",
                                               "generation_config.json",
                                               kIndexFile,
                                               "pytorch_model.bin.index.json",
                                               "tokenizer.json",
                                               "tokenizer_config.json",
                                               "special_tokens_map.json",
                                               "tokenizer.model",
                                               "added_tokens.json",
                                               "vocab.json",
                                               "merges.txt",
                                               "vocab.txt",
                                               "spiece.model",
                                               "sentencepiece.bpe.model",
                                               "trainer_state.json",
                                               "training_args.bin",
                                               "optimizer.pt",
                                               "scheduler.pt",
                                               "loss_curve.png"};
  return kNames.count(name) || absl::EndsWith(name, ".safetensors") ||
         absl::EndsWith(name, ".bin") || absl::EndsWith(name, ".pth") ||
         absl::StartsWith(name, "events.out.tfevents.");
}

// The shard each tensor of `dir` lives in ({name: "model.safetensors"} without an index).
absl::StatusOr<std::map<std::string, std::string>> ShardOf(const FolderModel& model,
                                                           nlohmann::json* index) {
  std::map<std::string, std::string> shard;
  const fs::path index_path = fs::path(model.dir) / kIndexFile;
  if (!fs::exists(index_path)) {
    for (const auto& [name, tensor] : model.tensors) shard[name] = kSingleFile;
    return shard;
  }
  ASSIGN_OR_RETURN(*index, ReadJsonFile(index_path.string()));
  for (const auto& [name, file] : (*index)["weight_map"].items()) {
    if (!file.is_string() || absl::StrContains(file.get<std::string>(), "/")) {
      return absl::InvalidArgumentError(
          absl::StrCat(index_path.string(), ": shard of \"", name, "\" is not a file name"));
    }
    shard[name] = file.get<std::string>();
  }
  return shard;
}

class Combiner {
 public:
  Combiner(const FolderModel& base, const FolderModel& transferred, const FolderModel& finetuned,
           std::string staging, double lambda)
      : base_(base),
        transferred_(transferred),
        finetuned_(finetuned),
        staging_(std::move(staging)),
        lambda_(lambda) {}

  absl::StatusOr<FinetunedSummary> Run();

 private:
  absl::StatusOr<at::Tensor> Combined(const std::string& name, const at::Tensor& finetuned);
  absl::Status WriteWeights();
  absl::Status WriteConfigs();
  absl::Status WriteTokenizerFiles();
  absl::Status CopyOtherFiles();
  std::string Out(const std::string& name) const { return (fs::path(staging_) / name).string(); }

  const FolderModel& base_;
  const FolderModel& transferred_;
  const FolderModel& finetuned_;
  std::string staging_;
  double lambda_;
  std::vector<std::string> embedding_;
  FinetunedSummary summary_;
};

absl::StatusOr<at::Tensor> Combiner::Combined(const std::string& name,
                                              const at::Tensor& finetuned) {
  auto from_transfer = transferred_.tensors.find(name);
  if (from_transfer == transferred_.tensors.end()) {
    return absl::NotFoundError(
        absl::StrCat("transferred base ", transferred_.dir, " has no tensor \"", name, "\""));
  }
  if (std::find(embedding_.begin(), embedding_.end(), name) != embedding_.end()) {
    summary_.replaced.push_back(name);
    return from_transfer->second.to(finetuned.scalar_type()).contiguous();
  }
  const at::Tensor& base = base_.tensors.at(name);  // CheckSameBody: same names and shapes
  if (lambda_ == 0 || at::equal(base, from_transfer->second.to(base.scalar_type()))) {
    ++summary_.tensors_kept;
    return finetuned;
  }
  ++summary_.tensors_shifted;
  const at::Tensor shift = from_transfer->second.to(at::kFloat) - base.to(at::kFloat);
  return (finetuned.to(at::kFloat) + lambda_ * shift).to(finetuned.scalar_type()).contiguous();
}

absl::Status Combiner::WriteWeights() {
  nlohmann::json index;
  ASSIGN_OR_RETURN(const auto shard_of, ShardOf(finetuned_, &index));
  std::map<std::string, TensorMap> shards;
  for (const auto& [name, tensor] : finetuned_.tensors) {
    auto shard = shard_of.find(name);
    if (shard == shard_of.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(finetuned_.dir, "/", kIndexFile, " does not list \"", name, "\""));
    }
    ASSIGN_OR_RETURN(shards[shard->second][name], Combined(name, tensor));
  }
  uint64_t total_bytes = 0;
  for (const auto& [file, tensors] : shards) {
    for (const auto& [name, tensor] : tensors) total_bytes += tensor.nbytes();
    RETURN_IF_ERROR(WriteSafetensors(Out(file), tensors, {{"format", "pt"}}));
  }
  if (index.is_null()) return absl::OkStatus();
  index["metadata"]["total_size"] = total_bytes;
  return WriteJsonFile(Out(kIndexFile), index);
}

// The fine-tuned configs with the target vocabulary's size and special-token ids.
absl::Status Combiner::WriteConfigs() {
  const nlohmann::json& target = transferred_.config;
  auto id = [&](const nlohmann::json& from, const char* key) {
    return from.contains(key) ? from[key] : nlohmann::json(nullptr);
  };
  if (!target.contains("vocab_size") || !target["vocab_size"].is_number_integer()) {
    return absl::InvalidArgumentError(
        absl::StrCat(transferred_.dir, "/config.json: no integer vocab_size"));
  }
  nlohmann::json config = finetuned_.config;
  config["vocab_size"] = target["vocab_size"];
  summary_.vocab_size = target["vocab_size"].get<int64_t>();
  for (const char* key : {"bos_token_id", "eos_token_id", "pad_token_id"}) {
    config[key] = id(target, key);
  }
  RETURN_IF_ERROR(WriteJsonFile(Out("config.json"), config));

  const fs::path generation = fs::path(finetuned_.dir) / "generation_config.json";
  if (!fs::exists(generation)) return absl::OkStatus();
  ASSIGN_OR_RETURN(nlohmann::json gen, ReadJsonFile(generation.string()));
  if (!gen.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(generation.string(), ": not an object"));
  }
  const fs::path target_generation = fs::path(transferred_.dir) / "generation_config.json";
  nlohmann::json ids = target;
  if (fs::exists(target_generation)) {
    ASSIGN_OR_RETURN(ids, ReadJsonFile(target_generation.string()));
  }
  for (const char* key : {"bos_token_id", "eos_token_id", "pad_token_id"}) gen[key] = id(ids, key);
  // Ids of the base vocabulary mean nothing in the target one.
  for (const char* key : {"decoder_start_token_id", "forced_bos_token_id", "forced_eos_token_id",
                          "suppress_tokens", "begin_suppress_tokens", "bad_words_ids"}) {
    gen.erase(key);
  }
  return WriteJsonFile(Out("generation_config.json"), gen);
}

// The transferred base's tokenizer files; the fine-tuned chat template goes along.
absl::Status Combiner::WriteTokenizerFiles() {
  for (const char* name : {"tokenizer.json", "special_tokens_map.json", "tokenizer.model"}) {
    const fs::path from = fs::path(transferred_.dir) / name;
    if (!fs::exists(from)) continue;
    ASSIGN_OR_RETURN(const std::string bytes, ReadFileToString(from.string()));
    RETURN_IF_ERROR(WriteStringToFile(Out(name), bytes));
  }
  const fs::path target_config = fs::path(transferred_.dir) / "tokenizer_config.json";
  nlohmann::json config = nlohmann::json::object();
  if (fs::exists(target_config)) {
    ASSIGN_OR_RETURN(config, ReadJsonFile(target_config.string()));
  }
  const fs::path ft_config = fs::path(finetuned_.dir) / "tokenizer_config.json";
  if (fs::exists(ft_config)) {
    ASSIGN_OR_RETURN(const nlohmann::json ft, ReadJsonFile(ft_config.string()));
    if (ft.is_object() && ft.contains("chat_template")) {
      config["chat_template"] = ft["chat_template"];
      summary_.chat_template = true;
    }
  }
  return WriteJsonFile(Out("tokenizer_config.json"), config);
}

absl::Status Combiner::CopyOtherFiles() {
  for (const auto& entry : fs::directory_iterator(finetuned_.dir)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_regular_file() || IsRewrittenOrDropped(name)) continue;
    std::error_code error;
    fs::copy_file(entry.path(), Out(name), fs::copy_options::overwrite_existing, error);
    if (error) {
      return absl::InternalError(
          absl::StrCat("copying ", entry.path().string(), ": ", error.message()));
    }
    if (name == "chat_template.jinja") summary_.chat_template = true;
    summary_.copied_files.push_back(name);
  }
  return absl::OkStatus();
}

absl::StatusOr<FinetunedSummary> Combiner::Run() {
  ASSIGN_OR_RETURN(const Architecture architecture, ArchitectureFromConfig(base_.config));
  summary_.architecture = ArchitectureName(architecture);
  ASSIGN_OR_RETURN(const EmbeddingTensorNames names,
                   EmbeddingTensorNamesFor(summary_.architecture));
  embedding_ = {names.input, names.output};
  if (!names.output_bias.empty()) embedding_.push_back(names.output_bias);
  RETURN_IF_ERROR(CheckSameBody(base_, finetuned_, embedding_));
  RETURN_IF_ERROR(CheckSameBody(base_, transferred_, embedding_));
  RETURN_IF_ERROR(CheckSameVocabulary(base_, finetuned_, names.input));
  RETURN_IF_ERROR(WriteWeights());
  RETURN_IF_ERROR(WriteConfigs());
  RETURN_IF_ERROR(WriteTokenizerFiles());
  RETURN_IF_ERROR(CopyOtherFiles());
  return summary_;
}

}  // namespace

absl::StatusOr<FinetunedSummary> WriteFinetunedTransfer(const std::string& base_dir,
                                                        const std::string& transferred_dir,
                                                        const std::string& finetuned_dir,
                                                        const std::string& out_dir,
                                                        const FinetunedOptions& options) {
  RETURN_IF_ERROR(CheckOutDir(out_dir,
                              {{base_dir, "an input folder"},
                               {transferred_dir, "an input folder"},
                               {finetuned_dir, "an input folder"}},
                              options.force));
  ASSIGN_OR_RETURN(const FolderModel base, ReadFolderModel(base_dir, "base"));
  ASSIGN_OR_RETURN(const FolderModel transferred,
                   ReadFolderModel(transferred_dir, "transferred base"));
  ASSIGN_OR_RETURN(const FolderModel finetuned, ReadFolderModel(finetuned_dir, "fine-tuned"));
  absl::StatusOr<FinetunedSummary> summary;
  RETURN_IF_ERROR(WriteThroughStaging(out_dir, [&](const std::string& staging) {
    Combiner combiner(base, transferred, finetuned, staging, options.lambda);
    summary = combiner.Run();
    return summary.status();
  }));
  return summary;
}

absl::StatusOr<FinetunedSummary> ApplyToFinetuned(const std::string& base_dir,
                                                  const std::string& tokenizer_path,
                                                  const TransferredEmbeddings& embeddings,
                                                  const std::string& finetuned_dir,
                                                  const std::string& out_dir,
                                                  const ApplyOptions& apply_options,
                                                  const FinetunedOptions& options) {
  // Refused before the transfer is written, not after.
  RETURN_IF_ERROR(CheckOutDir(
      out_dir, {{base_dir, "an input folder"}, {finetuned_dir, "an input folder"}}, options.force));
  const std::string scratch = BesideOutDir(out_dir, ".transferred-base");
  ApplyOptions scratch_options = apply_options;
  scratch_options.force = true;
  absl::StatusOr<ApplySummary> transferred =
      WriteTransferredModel(base_dir, tokenizer_path, embeddings, scratch, scratch_options);
  absl::StatusOr<FinetunedSummary> summary =
      transferred.ok() ? WriteFinetunedTransfer(base_dir, scratch, finetuned_dir, out_dir, options)
                       : absl::StatusOr<FinetunedSummary>(transferred.status());
  std::error_code error;
  fs::remove_all(scratch, error);
  return summary;
}

}  // namespace zett::apply
