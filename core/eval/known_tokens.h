// How well a method reproduces the rows of tokens the original vocabulary already has: the
// "easy half" of zero-shot transfer. A target row is known when its decomposition is exactly
// one original id (its surface form is an original token) and it is not a special token kept
// at the original's row.
#ifndef ZETT_CORE_EVAL_KNOWN_TOKENS_H_
#define ZETT_CORE_EVAL_KNOWN_TOKENS_H_

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

#include "core/eval/lm_scorer.h"
#include "core/tokenizer/decomposition.h"
#include "core/transfer/source_embeddings.h"

namespace zett {

struct KnownTokenError {
  int64_t rows = 0;   // known target rows
  double input = 0;   // mean over them of ‖ê_in − e_in‖ / ‖e_in‖
  double output = 0;  // same for output rows (0 when the model is tied)
};

// `copy_source_id`: OriginalRowSources (rows kept from the original: not counted).
KnownTokenError MeasureKnownTokens(const tokenizer::Decomposition& decomposition,
                                   const std::vector<int32_t>& copy_source_id,
                                   const VocabularyTables& tables, const SourceEmbeddings& source);

}  // namespace zett

#endif  // ZETT_CORE_EVAL_KNOWN_TOKENS_H_
