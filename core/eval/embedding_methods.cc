#include "core/eval/embedding_methods.h"

#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/GradMode.h>

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "core/hypernet/hypernet.h"
#include "core/transfer/target_rows.h"
#include "core/util/status_macros.h"

namespace zett {
namespace {

constexpr int64_t kFvtChunk = 8192;  // rows per gather ([chunk, L, d] floats)

// Random tables (input, and output when untied), then the special rows copied.
VocabularyTables RandomLike(int64_t rows, const SourceEmbeddings& source, uint64_t seed) {
  VocabularyTables t;
  t.input = SampleLikeRows(source.input, rows, seed);
  if (source.output.defined()) t.output = SampleLikeRows(source.output, rows, seed + 1);
  return t;
}

absl::Status KeepSpecialRows(const std::vector<int32_t>& copy_source_id,
                             const SourceEmbeddings& source, VocabularyTables* tables) {
  HypernetOutput out{tables->input, tables->output, tables->bias};
  RETURN_IF_ERROR(CopyOriginalRows(copy_source_id, source, &out));
  *tables = {out.embeddings_in, out.embeddings_out, out.bias};
  return absl::OkStatus();
}

absl::Status CheckRows(int64_t rows, const std::vector<int32_t>& copy_source_id) {
  if (static_cast<int64_t>(copy_source_id.size()) != rows) {
    return absl::InvalidArgumentError(
        absl::StrCat("copy_source_id has ", copy_source_id.size(), " entries for ", rows, " rows"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<EvalMethod> ParseEvalMethod(const std::string& name) {
  if (name == "original") return EvalMethod::kOriginal;
  if (name == "hypernet") return EvalMethod::kHypernet;
  if (name == "fvt") return EvalMethod::kFvt;
  if (name == "lexical") return EvalMethod::kLexical;
  if (name == "random") return EvalMethod::kRandom;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown method '", name, "' (expected original, hypernet, fvt, lexical or random)"));
}

std::string EvalMethodName(EvalMethod method) {
  switch (method) {
    case EvalMethod::kOriginal:
      return "original";
    case EvalMethod::kHypernet:
      return "hypernet";
    case EvalMethod::kFvt:
      return "fvt";
    case EvalMethod::kLexical:
      return "lexical";
    case EvalMethod::kRandom:
      return "random";
  }
  return "?";
}

at::Tensor SampleLikeRows(const at::Tensor& original, int64_t rows, uint64_t seed) {
  c10::NoGradGuard no_grad;
  at::Tensor x = original.to(at::kCPU, at::kFloat);
  at::Tensor mean = x.mean(0), std = x.std(0);
  at::Generator generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randn({rows, x.size(1)}, generator, at::TensorOptions().dtype(at::kFloat)) * std +
         mean;
}

absl::StatusOr<VocabularyTables> FvtTables(const tokenizer::Decomposition& decomposition,
                                           const SourceEmbeddings& source,
                                           const std::vector<int32_t>& copy_source_id,
                                           uint64_t seed) {
  c10::NoGradGuard no_grad;
  const auto rows = static_cast<int64_t>(decomposition.surface_forms.size());
  const int64_t L = decomposition.max_len;
  RETURN_IF_ERROR(CheckRows(rows, copy_source_id));
  at::Tensor ids = at::tensor(decomposition.ids, at::kInt).to(at::kLong).view({rows, L});
  at::Tensor valid = ids.ne(decomposition.pad_id) & ids.ge(0) & ids.lt(source.vocab_size());
  at::Tensor safe_ids = at::where(valid, ids, at::zeros_like(ids));
  at::Tensor counts = valid.sum(1, true).to(at::kFloat);  // [rows, 1]
  at::Tensor weights = valid.to(at::kFloat).unsqueeze(2) / counts.clamp_min(1).unsqueeze(2);
  VocabularyTables t = RandomLike(rows, source, seed);  // rows with no original id keep these
  at::Tensor has_any = counts.squeeze(1).gt(0);
  auto mean_rows = [&](const at::Tensor& table, at::Tensor& out) {
    at::Tensor e = table.to(at::kFloat);
    for (int64_t r = 0; r < rows; r += kFvtChunk) {
      const int64_t n = std::min(kFvtChunk, rows - r);
      at::Tensor gathered =
          e.index_select(0, safe_ids.narrow(0, r, n).reshape(-1)).view({n, L, e.size(1)});
      at::Tensor mean = (gathered * weights.narrow(0, r, n)).sum(1);
      at::Tensor keep = has_any.narrow(0, r, n).unsqueeze(1);
      out.narrow(0, r, n).copy_(at::where(keep, mean, out.narrow(0, r, n)));
    }
  };
  mean_rows(source.input, t.input);
  if (source.output.defined()) mean_rows(source.output, t.output);
  RETURN_IF_ERROR(KeepSpecialRows(copy_source_id, source, &t));
  return t;
}

absl::StatusOr<VocabularyTables> LexicalTables(
    const tokenizer::Decomposition& decomposition,
    const std::vector<std::string>& original_surface_forms, const SourceEmbeddings& source,
    const std::vector<int32_t>& copy_source_id, uint64_t seed, int64_t* copied) {
  c10::NoGradGuard no_grad;
  const auto rows = static_cast<int64_t>(decomposition.surface_forms.size());
  RETURN_IF_ERROR(CheckRows(rows, copy_source_id));
  absl::flat_hash_map<std::string, int64_t> original_id;
  const int64_t limit =
      std::min<int64_t>(source.vocab_size(), static_cast<int64_t>(original_surface_forms.size()));
  for (int64_t i = 0; i < limit; ++i) original_id.emplace(original_surface_forms[i], i);
  std::vector<int64_t> targets, sources;
  for (int64_t r = 0; r < rows; ++r) {
    auto it = original_id.find(decomposition.surface_forms[r]);
    if (it == original_id.end()) continue;
    targets.push_back(r);
    sources.push_back(it->second);
  }
  if (copied != nullptr) *copied = static_cast<int64_t>(targets.size());
  VocabularyTables t = RandomLike(rows, source, seed);
  if (!targets.empty()) {
    at::Tensor target_index = at::tensor(targets, at::kLong);
    at::Tensor source_index = at::tensor(sources, at::kLong);
    t.input.index_put_({target_index}, source.input.index_select(0, source_index).to(at::kFloat));
    if (source.output.defined()) {
      t.output.index_put_({target_index},
                          source.output.index_select(0, source_index).to(at::kFloat));
    }
  }
  RETURN_IF_ERROR(KeepSpecialRows(copy_source_id, source, &t));
  return t;
}

absl::StatusOr<VocabularyTables> RandomTables(int64_t rows, const SourceEmbeddings& source,
                                              const std::vector<int32_t>& copy_source_id,
                                              uint64_t seed) {
  RETURN_IF_ERROR(CheckRows(rows, copy_source_id));
  VocabularyTables t = RandomLike(rows, source, seed);
  RETURN_IF_ERROR(KeepSpecialRows(copy_source_id, source, &t));
  return t;
}

}  // namespace zett
