// What the target methods (embedding_methods.h) need of one base LM, loaded once: the
// tokenizer that decomposes, the original rows in fp32, and — for the hypernet method — the
// hypernetwork with its projection of those rows. `zett-train eval` and `zett-train continue`
// build a target vocabulary's tables through it, so both start from the same rows.
#ifndef ZETT_CORE_EVAL_METHOD_TABLES_H_
#define ZETT_CORE_EVAL_METHOD_TABLES_H_

#include <ATen/ATen.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/eval/embedding_methods.h"
#include "core/eval/lm_scorer.h"
#include "core/eval/target_vocabulary.h"
#include "core/hypernet/hypernet.h"
#include "core/tokenizer/decomposition.h"
#include "core/tokenizer/tokenizer.h"
#include "core/transfer/source_embeddings.h"

namespace zett {

struct MethodTablesOptions {
  std::string base_dir;        // Hugging Face LM folder: its embedding tensors are the source rows
  std::string hypernet_dir;    // its tokenizer.json decomposes; "" = the base tokenizer does
  bool load_hypernet = false;  // for EvalMethod::kHypernet (needs hypernet_dir)
  at::Device device = at::kCPU;  // where the hypernetwork runs
  uint64_t seed = 0;             // random rows of lexical / random / FVT fallbacks
};

class MethodTables {
 public:
  // `base_tokenizer` decomposes when no hypernet_dir is given; `bos_content` is the original
  // BOS token's text. Checks that base and hypernetwork agree (hidden size, rows, tying).
  static absl::StatusOr<MethodTables> Load(const MethodTablesOptions& options,
                                           const tokenizer::Tokenizer& base_tokenizer,
                                           const std::string& bos_content);

  // target_vocabulary.h's vocabulary of `target`, decomposed as the server does.
  absl::StatusOr<TargetVocabulary> BuildTargetVocabulary(const tokenizer::Tokenizer& target) const;
  // [rows]: original id each row keeps (special tokens), or -1 (target_rows.h).
  std::vector<int32_t> CopySources(const TargetVocabulary& vocabulary) const;

  // Tables of `method` (not kOriginal) for `vocabulary`; `copy` = CopySources(vocabulary).
  // `language` picks the language embedding of a language-aware hypernetwork (PerLanguage).
  // fp32; hypernet tables on options.device, the others on the CPU.
  absl::StatusOr<VocabularyTables> TablesFor(EvalMethod method, const TargetVocabulary& vocabulary,
                                             const std::vector<int32_t>& copy,
                                             const std::string& language) const;
  // Whether TablesFor(method, …) depends on `language`.
  bool PerLanguage(EvalMethod method) const;

  const SourceEmbeddings& source() const { return source_; }  // fp32, CPU
  const Hypernet* hypernet() const { return hypernet_ ? &*hypernet_ : nullptr; }

 private:
  MethodTables() = default;

  std::unique_ptr<tokenizer::Decomposer> decomposer_;
  tokenizer::DecomposeOptions decompose_options_;
  std::string bos_content_;
  SourceEmbeddings source_;
  int64_t original_vocab_size_ = 0;
  uint64_t seed_ = 0;
  std::optional<Hypernet> hypernet_;
  at::Tensor stacked_,
      projected_;  // source_.Stacked() and its projection, on the hypernet's device
  HypernetForwardOptions forward_options_;
};

// The base LM's own tokenizer: tokenizer.json, else tokenizer.model. NOT_FOUND / INVALID_ARGUMENT
// name the file.
absl::StatusOr<std::unique_ptr<tokenizer::Tokenizer>> LoadBaseTokenizer(
    const std::string& base_dir);

// `what` ("target tokenizer") starts the error message, which names `path`.
absl::StatusOr<std::unique_ptr<tokenizer::Tokenizer>> LoadNamedTokenizer(const std::string& path,
                                                                         const std::string& what);

}  // namespace zett

#endif  // ZETT_CORE_EVAL_METHOD_TABLES_H_
