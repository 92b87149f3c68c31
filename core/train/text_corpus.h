// Training text for base-LM pretraining: per-language files (data/corpus/<split>/<lang>.txt,
// where a line is a paragraph and a blank line ends a document) turned into one token stream per
// file — each document as BOS + ids + EOS — and random windows drawn from those streams.
#ifndef ZETT_CORE_TRAIN_TEXT_CORPUS_H_
#define ZETT_CORE_TRAIN_TEXT_CORPUS_H_

#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/train/sentencepiece_encoder.h"

namespace zett {

struct TokenStream {
  std::string name;  // file stem, e.g. "en" for data/corpus/train/en.txt
  std::vector<int32_t> tokens;
  int64_t bytes = 0;  // UTF-8 bytes of the documents' text (newlines inside documents counted)
  int64_t documents = 0;
};

// "a.txt,b/*.txt" → sorted, de-duplicated paths. NOT_FOUND when a part matches nothing.
absl::StatusOr<std::vector<std::string>> ExpandFileList(const std::string& spec);

// Tokenizes every file (in parallel, up to `threads`). Documents are encoded whole (lines joined
// by '\n'); `bos_id`/`eos_id` < 0 are left out. With a `cache_dir`, each file's stream is
// stored there under a key of (path, size, mtime, `tokenizer_key`) and reused by later runs —
// resumed training skips re-tokenizing.
absl::StatusOr<std::vector<TokenStream>> TokenizeFiles(const std::vector<std::string>& paths,
                                                       const SentencePieceEncoder& encoder,
                                                       int bos_id, int eos_id, int threads,
                                                       const std::string& cache_dir = "",
                                                       const std::string& tokenizer_key = "");

// Draws training windows: a stream is picked with probability ∝ tokens^alpha (alpha < 1 gives
// small languages more weight), then a uniform start inside it. A batch depends only on
// (seed, step), so a resumed run sees exactly the batches the uninterrupted run would have.
class WindowSampler {
 public:
  WindowSampler(const std::vector<TokenStream>* streams, int64_t window, double alpha);
  // → int64 [batch, window]
  at::Tensor Batch(int64_t batch, uint64_t seed, int64_t step) const;
  const std::vector<double>& probabilities() const { return probabilities_; }

 private:
  const std::vector<TokenStream>* streams_;
  int64_t window_;
  std::vector<double> probabilities_;
};

// Up to `max_windows` consecutive, non-overlapping windows from the start of `stream`
// → int64 [N, window] (N = 0 when the stream is shorter than one window).
at::Tensor EvaluationWindows(const TokenStream& stream, int64_t window, int64_t max_windows);

}  // namespace zett

#endif  // ZETT_CORE_TRAIN_TEXT_CORPUS_H_
