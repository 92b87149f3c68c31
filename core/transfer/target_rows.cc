#include "core/transfer/target_rows.h"

#include <c10/core/GradMode.h>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"

namespace zett {

int32_t OriginalRowSource(const tokenizer::Decomposition& decomposition, size_t row,
                          int64_t original_vocab_size) {
  if (!(decomposition.flags[row] & tokenizer::kSpecial)) return -1;
  const int L = decomposition.max_len;
  const int32_t first = decomposition.ids[row * L];
  if (first < 0 || first >= original_vocab_size) return -1;
  if (L > 1 && decomposition.ids[row * L + 1] != decomposition.pad_id) return -1;
  return first;
}

std::vector<int32_t> OriginalRowSources(const tokenizer::Decomposition& decomposition,
                                        int64_t original_vocab_size) {
  std::vector<int32_t> sources(decomposition.surface_forms.size());
  for (size_t i = 0; i < sources.size(); ++i) {
    sources[i] = OriginalRowSource(decomposition, i, original_vocab_size);
  }
  return sources;
}

absl::Status CopyOriginalRows(const std::vector<int32_t>& copy_source_id,
                              const SourceEmbeddings& source, HypernetOutput* out) {
  std::vector<int64_t> rows, sources;
  for (size_t i = 0; i < copy_source_id.size(); ++i) {
    if (copy_source_id[i] < 0) continue;
    if (copy_source_id[i] >= source.vocab_size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "copied row ", i, ": original id ", copy_source_id[i], " >= ", source.vocab_size()));
    }
    rows.push_back(static_cast<int64_t>(i));
    sources.push_back(copy_source_id[i]);
  }
  if (rows.empty()) return absl::OkStatus();
  if (static_cast<int64_t>(copy_source_id.size()) > out->embeddings_in.size(0)) {
    return absl::InvalidArgumentError("copied rows: more rows than predictions");
  }
  const at::Device device = out->embeddings_in.device();
  at::Tensor row_index = at::tensor(rows, at::kLong).to(device);
  at::Tensor source_index = at::tensor(sources, at::kLong);
  auto copy = [&](at::Tensor& predicted, const at::Tensor& original) {
    predicted.index_put_(
        {row_index}, original.index_select(0, source_index).to(device, predicted.scalar_type()));
  };
  copy(out->embeddings_in, source.input);
  if (out->embeddings_out.defined() && source.output.defined()) {
    copy(out->embeddings_out, source.output);
  }
  if (out->bias.defined() && source.output_bias.defined()) copy(out->bias, source.output_bias);
  return absl::OkStatus();
}

absl::StatusOr<HypernetOutput> PredictTargetRows(
    const Hypernet& hypernet, const at::Tensor& decomposition, const at::Tensor& projected,
    const at::Tensor& stacked, std::optional<int64_t> language,
    const HypernetForwardOptions& options, const std::vector<int32_t>& copy_source_id,
    const SourceEmbeddings& source) {
  c10::NoGradGuard no_grad;
  ASSIGN_OR_RETURN(HypernetOutput out,
                   hypernet.ForwardProjected(decomposition.to(hypernet.device(), at::kLong),
                                             projected, stacked, language, options));
  RETURN_IF_ERROR(CopyOriginalRows(copy_source_id, source, &out));
  return out;
}

}  // namespace zett
