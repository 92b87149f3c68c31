#include "core/eval/known_tokens.h"

#include <c10/core/GradMode.h>

namespace zett {
namespace {

// Mean relative L2 error of predicted[rows] against original[ids].
double MeanRelativeError(const at::Tensor& predicted, const at::Tensor& original,
                         const at::Tensor& rows, const at::Tensor& ids) {
  const at::Tensor p = predicted.index_select(0, rows.to(predicted.device())).to(at::kFloat).cpu();
  const at::Tensor o = original.index_select(0, ids.to(original.device())).to(at::kFloat).cpu();
  const at::Tensor norms = o.norm(2, {1}).clamp_min(1e-12);
  return ((p - o).norm(2, {1}) / norms).mean().item<double>();
}

}  // namespace

KnownTokenError MeasureKnownTokens(const tokenizer::Decomposition& decomposition,
                                   const std::vector<int32_t>& copy_source_id,
                                   const VocabularyTables& tables, const SourceEmbeddings& source) {
  c10::NoGradGuard no_grad;
  const int L = decomposition.max_len;
  const int64_t V = static_cast<int64_t>(decomposition.ids.size()) / std::max(1, L);
  std::vector<int64_t> rows, ids;
  for (int64_t r = 0; r < V; ++r) {
    if (r < static_cast<int64_t>(copy_source_id.size()) && copy_source_id[r] >= 0) continue;
    const int32_t first = decomposition.ids[r * L];
    if (first == decomposition.pad_id || first < 0 || first >= decomposition.original_vocab_size ||
        first >= source.vocab_size()) {
      continue;
    }
    bool single = true;
    for (int j = 1; j < L && single; ++j)
      single = decomposition.ids[r * L + j] == decomposition.pad_id;
    if (!single) continue;
    rows.push_back(r);
    ids.push_back(first);
  }
  KnownTokenError error;
  error.rows = static_cast<int64_t>(rows.size());
  if (rows.empty() || !tables.input.defined()) return error;
  const at::Tensor row_index = at::tensor(rows, at::kLong), id_index = at::tensor(ids, at::kLong);
  error.input = MeanRelativeError(tables.input, source.input, row_index, id_index);
  if (tables.output.defined() && source.output.defined()) {
    error.output = MeanRelativeError(tables.output, source.output, row_index, id_index);
  }
  return error;
}

}  // namespace zett
