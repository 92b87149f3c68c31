#include "core/hypernet/special_tokens.h"

#include "absl/strings/str_cat.h"

namespace zett {
namespace {

absl::Status CheckIds(const std::vector<int64_t>& ids, int64_t limit, const char* what) {
  for (int64_t id : ids) {
    if (id < 0 || id >= limit) {
      return absl::InvalidArgumentError(
          absl::StrCat("special tokens: ", what, " id ", id, " is outside [0, ", limit, ")"));
    }
  }
  return absl::OkStatus();
}

// Out-of-place: rows `targets` of `matrix` become rows `sources` of `original`.
at::Tensor CopyRows(const at::Tensor& matrix, const at::Tensor& targets, const at::Tensor& original,
                    const at::Tensor& sources) {
  at::Tensor rows = original.index_select(0, sources.to(original.device()))
                        .to(matrix.device(), matrix.scalar_type());
  return matrix.index_copy(0, targets.to(matrix.device()), rows);
}

}  // namespace

absl::Status OverwriteSpecialTokenRows(HypernetOutput& output,
                                       const std::vector<int64_t>& target_ids,
                                       const std::vector<int64_t>& source_ids,
                                       const at::Tensor& source_embeddings,
                                       const at::Tensor& original_bias) {
  if (target_ids.size() != source_ids.size()) {
    return absl::InvalidArgumentError(absl::StrCat("special tokens: ", target_ids.size(),
                                                   " target ids but ", source_ids.size(),
                                                   " source ids"));
  }
  if (!output.embeddings_in.defined() || output.embeddings_in.dim() != 2) {
    return absl::InvalidArgumentError("special tokens: no input embeddings to overwrite");
  }
  if (target_ids.empty()) return absl::OkStatus();
  const int64_t d = output.embeddings_in.size(1);
  const int64_t needed = output.embeddings_out.defined() ? 2 * d : d;
  if (!source_embeddings.defined() || source_embeddings.dim() != 2 ||
      source_embeddings.size(1) < needed) {
    return absl::InvalidArgumentError(absl::StrCat(
        "special tokens: source_embeddings must be [V_orig, ", needed, "]",
        output.embeddings_out.defined() ? " ([E_in | E_out]: the output matrix is predicted)"
                                        : ""));
  }
  if (auto s = CheckIds(target_ids, output.embeddings_in.size(0), "target"); !s.ok()) return s;
  if (auto s = CheckIds(source_ids, source_embeddings.size(0), "source"); !s.ok()) return s;
  try {
    const auto long_options = at::TensorOptions().dtype(at::kLong);
    at::Tensor targets = at::tensor(at::ArrayRef<int64_t>(target_ids), long_options);
    at::Tensor sources = at::tensor(at::ArrayRef<int64_t>(source_ids), long_options);
    output.embeddings_in =
        CopyRows(output.embeddings_in, targets, source_embeddings.slice(1, 0, d), sources);
    if (output.embeddings_out.defined()) {
      output.embeddings_out =
          CopyRows(output.embeddings_out, targets, source_embeddings.slice(1, d, 2 * d), sources);
    }
    if (output.bias.defined() && original_bias.defined()) {
      if (auto s = CheckIds(source_ids, original_bias.size(0), "bias source"); !s.ok()) return s;
      output.bias =
          CopyRows(output.bias.unsqueeze(1), targets, original_bias.view({-1, 1}), sources)
              .squeeze(1);
    }
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("special tokens: overwrite failed: ", e.what()));
  }
  return absl::OkStatus();
}

}  // namespace zett
