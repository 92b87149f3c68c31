// Summed next-token negative log-likelihood of a decoder LM over windows (windows.h), with its
// own embeddings or with supplied tables (a transferred vocabulary). Logits are computed in
// fp32 from the final hidden states, only at predicted positions and in row chunks, so a
// 128k-token vocabulary does not need a [B, T, V] tensor.
#ifndef ZETT_CORE_EVAL_LM_SCORER_H_
#define ZETT_CORE_EVAL_LM_SCORER_H_

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "core/eval/windows.h"
#include "core/model/llama.h"

namespace zett {

// The vocabulary the LM reads and predicts. Undefined `input` = the model's own tables.
struct VocabularyTables {
  at::Tensor input;   // [V', d]
  at::Tensor output;  // [V', d]; undefined = `input` (tied) or the model's own head
  at::Tensor bias;    // [V'], optional
};

struct ScoreOptions {
  int64_t seq_len = 512;
  int64_t batch_size = 8;  // windows per forward
  int64_t pad_id = 0;      // any valid id; padded positions are masked
};

struct ScoreResult {
  double nats = 0;        // Σ -ln p(token | prefix)
  int64_t predicted = 0;  // tokens predicted (= Σ n over sequences)
};

// `sequences`: per document [BOS] + token ids in the tables' vocabulary.
absl::StatusOr<ScoreResult> ScoreSequences(LlamaForCausalLM& model,
                                           const std::vector<std::vector<int32_t>>& sequences,
                                           const VocabularyTables& tables,
                                           const ScoreOptions& options);

}  // namespace zett

#endif  // ZETT_CORE_EVAL_LM_SCORER_H_
