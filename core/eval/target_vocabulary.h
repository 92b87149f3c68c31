// A target tokenizer as the transferred model sees it: the decomposed vocabulary the server
// returns (byte-level surface forms, the original's special tokens at their original ids), and
// the map from the target tokenizer's own ids to rows of that vocabulary, so text encoded with
// the target tokenizer can be fed to the LM.
#ifndef ZETT_CORE_EVAL_TARGET_VOCABULARY_H_
#define ZETT_CORE_EVAL_TARGET_VOCABULARY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/tokenizer/decomposition.h"
#include "core/tokenizer/tokenizer.h"

namespace zett {

struct TargetVocabulary {
  // Rows = the vocabulary of the transferred model as `zett apply` writes it: the rows of
  // Decomposer::Decompose(target) (what the server predicts) that some target id or the BOS
  // maps to, in that order, plus extra rows for target ids it has no row for (target special
  // tokens the original lacks) and, if missing, the original BOS. Rows only the conversion
  // adds (fill bytes, whitespace runs, BPE helper tokens) are not part of it: no target id
  // produces them, and the applied model has no row for them.
  tokenizer::Decomposition decomposition;
  std::vector<int32_t> row_of_target_id;  // [target.vocab_size()] → row
  int32_t bos_row = -1;                   // row of the original BOS token (its own row)
  int64_t extra_rows = 0;

  int64_t rows() const { return static_cast<int64_t>(decomposition.surface_forms.size()); }
};

// `bos_content`: the original BOS token's text (e.g. "<s>").
absl::StatusOr<TargetVocabulary> BuildTargetVocabulary(const tokenizer::Decomposer& decomposer,
                                                       const tokenizer::Tokenizer& target,
                                                       const tokenizer::DecomposeOptions& options,
                                                       const std::string& bos_content);

// [BOS row] + rows of target.Encode(document) (no special tokens added).
absl::StatusOr<std::vector<int32_t>> EncodeWithTarget(const tokenizer::Tokenizer& target,
                                                      const TargetVocabulary& vocabulary,
                                                      const std::string& document);

}  // namespace zett

#endif  // ZETT_CORE_EVAL_TARGET_VOCABULARY_H_
