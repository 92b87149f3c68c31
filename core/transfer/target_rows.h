// The rows of a transferred (target) vocabulary that the server and the evaluation share: which
// target rows keep the base model's own rows (special tokens), and the hypernetwork prediction
// with that policy applied. One implementation, so `zett-server` and `zett-train eval` measure
// and serve the same embeddings.
#ifndef ZETT_CORE_TRANSFER_TARGET_ROWS_H_
#define ZETT_CORE_TRANSFER_TARGET_ROWS_H_

#include <ATen/ATen.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "core/hypernet/hypernet.h"
#include "core/tokenizer/decomposition.h"
#include "core/transfer/source_embeddings.h"

namespace zett {

// zett writes a special token's decomposition as [original special id, pad, ...]; such a row
// keeps the original model's embeddings when that id is one of the original's own rows
// (< original_vocab_size). → original id per row, or -1 (predicted).
int32_t OriginalRowSource(const tokenizer::Decomposition& decomposition, size_t row,
                          int64_t original_vocab_size);
std::vector<int32_t> OriginalRowSources(const tokenizer::Decomposition& decomposition,
                                        int64_t original_vocab_size);

// Rows i with copy_source_id[i] >= 0 become the original rows: input embeddings from
// source.input, output embeddings from source.output (when both are defined), bias from
// source.output_bias (when both are defined). In place, on the predictions' device and dtype.
absl::Status CopyOriginalRows(const std::vector<int32_t>& copy_source_id,
                              const SourceEmbeddings& source, HypernetOutput* out);

// Hypernet::ForwardProjected over `decomposition` ([V, L] integer ids) followed by
// CopyOriginalRows. `projected` is hypernet.ProjectSourceEmbeddings(stacked); `stacked`
// (source.Stacked() on the hypernet's device) is read only by the residual form.
absl::StatusOr<HypernetOutput> PredictTargetRows(
    const Hypernet& hypernet, const at::Tensor& decomposition, const at::Tensor& projected,
    const at::Tensor& stacked, std::optional<int64_t> language,
    const HypernetForwardOptions& options, const std::vector<int32_t>& copy_source_id,
    const SourceEmbeddings& source);

}  // namespace zett

#endif  // ZETT_CORE_TRANSFER_TARGET_ROWS_H_
