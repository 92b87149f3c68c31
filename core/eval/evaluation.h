// `zett-train eval`: bits per byte and tokens per byte of a base LM on held-out text, with its
// own tokenizer and with target tokenizers whose embeddings come from the hypernetwork or a
// baseline (docs/evaluation.md).
//
// Protocol. Each text file is a language's test split (eval_text.h); every document is scored
// on its own as [BOS] + tokens, split into windows of seq_len inputs that predict every token
// exactly once (windows.h). bits/byte = Σ NLL (nats) / ln 2 / UTF-8 bytes of the documents;
// tokens/byte = document tokens (BOS excluded) / bytes. The target vocabulary is the one the
// server returns for the tokenizer (target_vocabulary.h): the original's special tokens sit at
// their original ids with their original rows, so the original BOS row starts every target
// sequence and stays in the softmax exactly as in the original model.
#ifndef ZETT_CORE_EVAL_EVALUATION_H_
#define ZETT_CORE_EVAL_EVALUATION_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/eval/embedding_methods.h"

namespace zett {

struct EvalOptions {
  std::string base_dir;      // Hugging Face decoder LM (config.json, safetensors, tokenizer)
  std::string hypernet_dir;  // needed for the hypernet method (its tokenizer.json decomposes)
  // "PATH" or "NAME=PATH" (tokenizer.json or SentencePiece .model). Default name: the parent
  // folder (data/tokenizers/de/tokenizer.json → "de"), else the file stem.
  std::vector<std::string> target_tokenizers;
  std::vector<std::string> texts;
  std::vector<EvalMethod> methods;
  int64_t max_bytes = 0;  // per text; 0 = all
  int64_t seq_len = 0;    // 0 = min(max_position_embeddings, 512)
  int64_t batch_size = 8;
  std::string device = "auto";  // auto | cpu | cuda
  std::string dtype = "auto";   // backbone: auto (bf16 on CUDA, fp32 on CPU) | float32 | bfloat16
  uint64_t seed = 0;            // random rows of lexical / random / FVT fallbacks
};

struct EvalRecord {
  std::string tokenizer;  // "original" for the original method
  std::string text;       // path
  std::string language;
  std::string method;
  double bits_per_byte = 0;
  double tokens_per_byte = 0;
  int64_t bytes = 0;
  int64_t tokens = 0;
  double seconds = 0;  // tables + scoring
  // Target methods: tokens the original has (known_tokens.h) and how far their rows moved.
  int64_t known_rows = 0;
  double known_error_in = 0, known_error_out = 0;
};

// Name of a --target-tokenizer entry (see EvalOptions) and its path.
std::pair<std::string, std::string> TokenizerNameAndPath(const std::string& spec);

// Checks every input (files, tokenizers, methods) before the first forward; progress lines go
// to `log` (may be null).
absl::StatusOr<std::vector<EvalRecord>> RunEvaluation(const EvalOptions& options,
                                                      std::ostream* log);

}  // namespace zett

#endif  // ZETT_CORE_EVAL_EVALUATION_H_
