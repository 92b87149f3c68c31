// Special tokens keep the original model's rows (zett's transfer.py and training step overwrite
// the predictions at the special tokens' ids with the original embeddings).
#ifndef ZETT_CORE_HYPERNET_SPECIAL_TOKENS_H_
#define ZETT_CORE_HYPERNET_SPECIAL_TOKENS_H_

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "core/hypernet/hypernet.h"

namespace zett {

// Sets row target_ids[k] of the predictions to the original row source_ids[k]:
// embeddings_in from source_embeddings[:, :d], embeddings_out (when defined) from
// source_embeddings[:, d:2d], bias (when both are defined) from original_bias [V_orig].
// Out of place (index_copy), so it is safe inside a training graph. Errors on mismatched
// lengths, ids out of range, or an output matrix the source table cannot supply.
absl::Status OverwriteSpecialTokenRows(HypernetOutput& output,
                                       const std::vector<int64_t>& target_ids,
                                       const std::vector<int64_t>& source_ids,
                                       const at::Tensor& source_embeddings,
                                       const at::Tensor& original_bias = {});

}  // namespace zett

#endif  // ZETT_CORE_HYPERNET_SPECIAL_TOKENS_H_
