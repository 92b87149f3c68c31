// How each evaluated method builds the embedding tables of a target vocabulary
// (docs/evaluation.md). In every target method the special tokens keep the original rows
// (core/transfer/target_rows.h: the same rule as the server).
//   hypernet  the hypernetwork's predictions (input, output, bias when predicted)
//   fvt       Fast Vocabulary Transfer: mean of the original rows (input and output) of the
//             token's decomposition with the original tokenizer
//   lexical   the original row when the target token's byte-level surface form equals an
//             original token's, else a random row
//   random    random rows for all
// A random row is drawn per dimension j from N(mean_j, std_j) of the original matrix (input
// and output separately).
#ifndef ZETT_CORE_EVAL_EMBEDDING_METHODS_H_
#define ZETT_CORE_EVAL_EMBEDDING_METHODS_H_

#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/eval/lm_scorer.h"
#include "core/tokenizer/decomposition.h"
#include "core/transfer/source_embeddings.h"

namespace zett {

enum class EvalMethod { kOriginal, kHypernet, kFvt, kLexical, kRandom };

absl::StatusOr<EvalMethod> ParseEvalMethod(const std::string& name);
std::string EvalMethodName(EvalMethod method);

// [rows, d] fp32: row i, column j ~ N(mean_j, std_j) of `original` ([V, d]), seeded.
at::Tensor SampleLikeRows(const at::Tensor& original, int64_t rows, uint64_t seed);

// `source`: fp32 CPU tables. `copy_source_id` [rows]: original id a row keeps, or -1.
// FVT: positions holding the pad id or an id without an original row (the byte-level
// conversion's helper ids) are left out of the mean; a row with none left is random.
absl::StatusOr<VocabularyTables> FvtTables(const tokenizer::Decomposition& decomposition,
                                           const SourceEmbeddings& source,
                                           const std::vector<int32_t>& copy_source_id,
                                           uint64_t seed);

// `original_surface_forms`: byte-level surface form per original id (the Decomposer's
// original_vocabulary()); the first original id of a surface form wins.
absl::StatusOr<VocabularyTables> LexicalTables(
    const tokenizer::Decomposition& decomposition,
    const std::vector<std::string>& original_surface_forms, const SourceEmbeddings& source,
    const std::vector<int32_t>& copy_source_id, uint64_t seed, int64_t* copied = nullptr);

absl::StatusOr<VocabularyTables> RandomTables(int64_t rows, const SourceEmbeddings& source,
                                              const std::vector<int32_t>& copy_source_id,
                                              uint64_t seed);

}  // namespace zett

#endif  // ZETT_CORE_EVAL_EMBEDDING_METHODS_H_
