// Per-step tokenizer sampling of ZeTT training (paper §3; zett's rust_utils TokenizerSampler):
// substrings of a queue of recent batches — the current one included — are counted, scored by
// frequency x length, perturbed with Gaussian noise whose scale is itself drawn from a
// LogNormal, and the top k become a UnigramLM vocabulary whose log-scores are used directly as
// piece log-probabilities (no EM). The 256 byte chars are always in, and so are the canonical
// whitespace runs.
//
// Pieces are in GPT-2 byte-char form (`Ġ` for a space), as the byte-level tokenizers the
// hypernetwork consumes: build a Unigram model from them with core/tokenizer's UnigramModel and
// pre-tokenize text with Prepend(" ") + Split(kSplitRegex) + ByteLevel(use_regex = false).
#ifndef ZETT_CORE_TRAIN_TOKENIZER_SAMPLER_H_
#define ZETT_CORE_TRAIN_TOKENIZER_SAMPLER_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace zett {

namespace tokenizer {
class PreTokenizer;
}  // namespace tokenizer

struct TokenizerSamplerOptions {
  int64_t vocab_size = 32768;  // k: pieces in a sampled tokenizer, byte chars and runs included
  int max_length = 16;         // substrings of 1 .. max_length - 1 bytes
  int stride = 4;              // count substrings starting at every stride-th char
  int queue_batches = 16;      // batches whose counts are kept (the current one included)
  double noise_mean = 1e-5;    // sigma ~ LogNormal(ln(noise_mean), noise_std)
  double noise_std = 4.0;
};

struct SampledTokenizer {
  std::vector<std::string> pieces;  // byte-char strings, unique
  std::vector<double> log_scores;   // UnigramLM log-probabilities, one per piece
  double noise_sigma = 0;           // the sigma drawn for this tokenizer
};

// zett's pre-tokenization regex (zett/utils.py SPLIT_REGEX): GPT-2's, with letters and marks
// kept together.
extern const char kSplitRegex[];

class TokenizerSampler {
 public:
  static absl::StatusOr<std::unique_ptr<TokenizerSampler>> Create(
      const TokenizerSamplerOptions& options, uint64_t seed);
  ~TokenizerSampler();

  // Counts the substrings of `texts` (one training batch, UTF-8) as one queue entry; the oldest
  // entry leaves when more than queue_batches are held.
  void Push(const std::vector<std::string>& texts);

  // A tokenizer from the counts in the queue. Fails when nothing has been pushed.
  absl::StatusOr<SampledTokenizer> Sample();

  // Push(batch) then Sample(): the batch is part of the text the tokenizer is sampled from, as in
  // the paper (so rare tokens of the batch can occur in its tokenizer).
  absl::StatusOr<SampledTokenizer> PushAndSample(const std::vector<std::string>& batch);

  // Queue counts and RNG state, for resumable training checkpoints (a line-based text format;
  // byte-char pieces hold no whitespace).
  std::string SerializeState() const;
  absl::Status RestoreState(const std::string& state);

  int64_t queued_batches() const { return static_cast<int64_t>(queue_.size()); }
  int64_t distinct_substrings() const { return static_cast<int64_t>(totals_.size()); }

 private:
  using Counts = absl::flat_hash_map<std::string, int64_t>;
  TokenizerSampler(const TokenizerSamplerOptions& options, uint64_t seed,
                   std::unique_ptr<tokenizer::PreTokenizer> split);
  void AddEntry(Counts counts);

  TokenizerSamplerOptions options_;
  std::mt19937_64 rng_;
  std::unique_ptr<tokenizer::PreTokenizer> split_;
  std::deque<Counts> queue_;  // front: oldest
  Counts totals_;             // sum over queue_
};

}  // namespace zett

#endif  // ZETT_CORE_TRAIN_TOKENIZER_SAMPLER_H_
