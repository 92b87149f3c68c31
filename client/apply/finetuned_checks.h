// The checks `zett apply --finetuned` makes before combining folders: the fine-tuned model (and
// the transferred base) must be the base's architecture with the base's body, and the
// fine-tuned vocabulary must be the base's, or the base's transfer does not fit it.
#ifndef ZETT_CLIENT_APPLY_FINETUNED_CHECKS_H_
#define ZETT_CLIENT_APPLY_FINETUNED_CHECKS_H_

#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/status.h"
#include "core/io/safetensors.h"

namespace zett::apply {

// One model folder as the checks see it.
struct FolderModel {
  std::string dir;
  std::string role;  // "base", "fine-tuned", "transferred base": for messages
  nlohmann::json config;
  TensorMap tensors;  // every tensor, all shards
};

// Reads config.json and the safetensors weights (single file or sharded) of `dir`.
absl::StatusOr<FolderModel> ReadFolderModel(const std::string& dir, const std::string& role);

// InvalidArgument naming both folders when `other` differs from `base` in architecture, hidden
// size, number of layers or tied/untied head, or has a body tensor (any but the `embedding`
// names) the base lacks, lacks one it has, or shapes one differently.
absl::Status CheckSameBody(const FolderModel& base, const FolderModel& other,
                           const std::vector<std::string>& embedding);

// InvalidArgument when the fine-tuned folder's vocabulary differs from the base's: config
// vocab_size, embedding rows, or the tokenizer (tokenizer.json, else tokenizer.model) id by id.
absl::Status CheckSameVocabulary(const FolderModel& base, const FolderModel& finetuned,
                                 const std::string& input_embedding);

}  // namespace zett::apply

#endif  // ZETT_CLIENT_APPLY_FINETUNED_CHECKS_H_
