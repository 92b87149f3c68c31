// Transfers a fine-tuned variant of a base model to a new tokenizer with the base's transfer
// (zett's scripts/apply_to_ft.py): the fine-tuned body is kept and shifted by what the transfer
// changed in the base's body, the embeddings are the transferred base's.
//   every non-embedding tensor: θ_out = θ_ft + λ·(θ_transferred_base − θ_base), in fp32, stored
//       in the fine-tuned tensor's dtype (byte for byte θ_ft where the transfer left the base's
//       tensor unchanged, as `zett apply` does for every body tensor);
//   input/output embeddings (and an LM-head bias): the transferred base's;
//   config.json / generation_config.json: the fine-tuned model's, with vocab_size and the
//       bos/eos/pad ids of the transferred base (the target vocabulary);
//   tokenizer files: the transferred base's, with the fine-tuned chat_template;
//   every other top-level file of the fine-tuned folder (README.md, chat_template.jinja, ...)
//       copied, except weights, tokenizer files and trainer state.
#ifndef ZETT_CLIENT_APPLY_FINETUNED_MODEL_H_
#define ZETT_CLIENT_APPLY_FINETUNED_MODEL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/apply/transferred_model.h"

namespace zett::apply {

struct FinetunedOptions {
  double lambda = 1.0;  // weight of the transfer's change to the base body
  bool force = false;   // replace a non-empty out_dir
};

struct FinetunedSummary {
  std::string architecture;
  int64_t vocab_size = 0;             // the target's
  int64_t tensors_kept = 0;           // body tensors the transfer left unchanged: θ_ft as is
  int64_t tensors_shifted = 0;        // body tensors moved by λ·(θ_transferred − θ_base)
  std::vector<std::string> replaced;  // embedding tensors taken from the transferred base
  bool chat_template = false;         // the fine-tuned chat_template was carried over
  std::vector<std::string> copied_files;
};

// Writes `out_dir` from three Hugging Face folders of one architecture: the base model, the base
// transferred to the target tokenizer (a `zett apply` output, or any folder of the base with new
// embeddings) and the fine-tuned model. Written to "<out_dir>.partial" and renamed at the end.
// Errors (InvalidArgument, naming both folders): different architectures, hidden sizes,
// tied/untied heads or sets of body tensors (layers), a body tensor whose shape differs, a
// fine-tuned vocabulary (tokenizer or vocab_size) that differs from the base's; missing files;
// an existing non-empty `out_dir` without `force`.
absl::StatusOr<FinetunedSummary> WriteFinetunedTransfer(const std::string& base_dir,
                                                        const std::string& transferred_dir,
                                                        const std::string& finetuned_dir,
                                                        const std::string& out_dir,
                                                        const FinetunedOptions& options = {});

// `zett apply --finetuned`: writes the transferred base (WriteTransferredModel) to a scratch
// folder beside `out_dir`, combines it with `finetuned_dir` and removes the scratch folder.
absl::StatusOr<FinetunedSummary> ApplyToFinetuned(
    const std::string& base_dir, const std::string& tokenizer_path,
    const TransferredEmbeddings& embeddings, const std::string& finetuned_dir,
    const std::string& out_dir, const ApplyOptions& apply_options, const FinetunedOptions& options);

}  // namespace zett::apply

#endif  // ZETT_CLIENT_APPLY_FINETUNED_MODEL_H_
