// One ZeTT training batch, built on the CPU (design.md §5, references.md §2): a tokenizer is
// sampled from a queue of texts that includes the batch, the batch is tokenized with it
// (Prepend(" ") + Split(kSplitRegex) + ByteLevel, then the sampled UnigramLM), and the sampled
// vocabulary is decomposed with the ORIGINAL tokenizer into the [V', L] matrix the hypernetwork
// reads. Also: the training texts (documents of data/corpus/<split>/<lang>.txt) and a bounded
// prefetch queue that builds the next batches in a background thread while the GPU trains.
#ifndef ZETT_CORE_TRAIN_ZETT_BATCH_H_
#define ZETT_CORE_TRAIN_ZETT_BATCH_H_

#include <ATen/ATen.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/tokenizer/decomposition.h"
#include "core/tokenizer/tokenizer.h"
#include "core/train/tokenizer_sampler.h"

namespace zett {

// Documents of per-language text files (a line is a paragraph, a blank line ends a document).
class TrainingTexts {
 public:
  // `spec`: comma-separated paths/globs. NOT_FOUND when nothing matches or all files are empty.
  static absl::StatusOr<TrainingTexts> Load(const std::string& spec);
  static TrainingTexts FromDocuments(std::vector<std::vector<std::string>> per_language,
                                     std::vector<std::string> names);

  // `count` spans of at most `max_bytes` bytes (cut at UTF-8 char boundaries): a language with
  // probability ∝ documents^alpha, a document and a start uniformly. A pure function of
  // (seed, step): a resumed run sees the batches of the uninterrupted one.
  std::vector<std::string> Sample(int64_t count, int64_t max_bytes, double alpha, uint64_t seed,
                                  int64_t step) const;
  // The first `per_language` documents of every language, each cut to `max_bytes`.
  std::vector<std::string> Leading(int64_t per_language, int64_t max_bytes) const;

  const std::vector<std::string>& names() const { return names_; }
  int64_t documents() const;

 private:
  std::vector<std::vector<std::string>> documents_;  // [language][document]
  std::vector<std::string> names_;
};

struct ZettBatchOptions {
  int64_t seq_len = 256;         // T: tokens per row fed to the LM (BOS included)
  int64_t max_len = 7;           // hn_surface_maxlen
  int64_t vocab_multiple = 128;  // the LM's vocabulary is padded to a multiple (masked rows)
};

// Everything a training step needs; CPU tensors.
struct ZettBatch {
  int64_t step = 0;
  bool mimick = false;        // warm-up step: only `surface_forms` and the aux rows are used
  at::Tensor input_ids;       // [B, T] int64, target-vocabulary ids, BOS first, padded
  at::Tensor attention_mask;  // [B, T] int64, 1 = token
  at::Tensor labels;          // [B, T] int64, next token or -100 (padding)
  at::Tensor surface_forms;   // [V', L] int32 decomposition with the original tokenizer
  int64_t vocab_rows = 0;     // V' (real rows); the LM sees padded_vocab_rows
  int64_t padded_vocab_rows = 0;
  std::vector<int64_t> special_target_ids;  // target rows that keep the original rows
  std::vector<int64_t> special_source_ids;
  at::Tensor aux_target_ids;  // [n] int64: rows whose decomposition has length 1
  at::Tensor aux_source_ids;  // [n] int64: their original ids
  int64_t text_bytes = 0;     // UTF-8 bytes of the batch texts
  int64_t tokens = 0;         // non-padding labels
  int64_t label_bytes = 0;    // text bytes the labels spell (for bits per byte)
  int64_t truncated = 0;      // decompositions longer than max_len
  double cpu_seconds = 0;     // time to build this batch
  std::string sampler_state;  // TokenizerSampler state after this step (save steps only)
};

// Builds batches for one original tokenizer. Thread-compatible (one builder per thread).
class ZettBatchBuilder {
 public:
  // `original`: the base LM's tokenizer. `bos_id` / `pad_id`: its ids (pad = eos for Llama);
  // both must be special tokens of `original`.
  static absl::StatusOr<std::unique_ptr<ZettBatchBuilder>> Create(
      const tokenizer::Tokenizer& original, int32_t bos_id, int32_t pad_id,
      const ZettBatchOptions& options);

  // Tokenizes `texts` with `sampled` and decomposes its vocabulary (+ the original specials,
  // appended after the pieces).
  absl::StatusOr<ZettBatch> Build(const std::vector<std::string>& texts,
                                  const SampledTokenizer& sampled) const;

  // MIMICK warm-up batch: `count` original tokens drawn uniformly (specials excluded), each
  // decomposed to itself (L = 1).
  ZettBatch BuildMimick(int64_t count, uint64_t seed, int64_t step) const;

  const tokenizer::Decomposer& decomposer() const { return *decomposer_; }
  int32_t pad_id() const { return pad_id_; }

 private:
  ZettBatchBuilder() = default;
  std::unique_ptr<tokenizer::Decomposer> decomposer_;
  std::vector<std::pair<int32_t, std::string>> specials_;  // original (id, content)
  int32_t bos_id_ = 0, pad_id_ = 0;
  int64_t original_size_ = 0;
  ZettBatchOptions options_;
};

// Builds batches for steps [first, end) in a background thread, at most `capacity` ahead of the
// consumer. The destructor stops and joins the thread, also while it waits on a full queue.
class BatchPrefetcher {
 public:
  using Producer = std::function<absl::StatusOr<ZettBatch>(int64_t step)>;
  BatchPrefetcher(Producer produce, int64_t first, int64_t end, size_t capacity);
  ~BatchPrefetcher();
  BatchPrefetcher(const BatchPrefetcher&) = delete;
  BatchPrefetcher& operator=(const BatchPrefetcher&) = delete;

  // The next step's batch (in step order); OUT_OF_RANGE after `end`, or the producer's error.
  absl::StatusOr<ZettBatch> Next();
  // Seconds Next() spent waiting for the producer (a stalled GPU), summed.
  double wait_seconds() const { return wait_seconds_; }

 private:
  void Run();
  Producer produce_;
  int64_t next_, end_;
  size_t capacity_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<absl::StatusOr<ZettBatch>> queue_;
  bool stop_ = false;
  int64_t delivered_;
  double wait_seconds_ = 0;
  std::thread thread_;
};

}  // namespace zett

#endif  // ZETT_CORE_TRAIN_ZETT_BATCH_H_
