// One ZeTT training batch, built on the CPU (docs/training.md): a tokenizer is
// sampled from a queue of texts that includes the batch, the batch is tokenized with it
// (Prepend(" ") + Split(kSplitRegex) + ByteLevel, then the sampled UnigramLM), and the sampled
// vocabulary is decomposed with the ORIGINAL tokenizer into the [P, L] matrix the hypernetwork
// reads. Every tensor of a batch has a size fixed by the options (the vocabulary padded to P
// rows), so the device step that consumes batches has static shapes.
#ifndef ZETT_CORE_TRAIN_ZETT_BATCH_H_
#define ZETT_CORE_TRAIN_ZETT_BATCH_H_

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/tokenizer/decomposition.h"
#include "core/tokenizer/tokenizer.h"
#include "core/train/tokenizer_sampler.h"

namespace zett {

struct ZettBatchOptions {
  int64_t seq_len = 256;  // T: tokens per row fed to the LM (BOS included)
  int64_t max_len = 7;    // L: hn_surface_maxlen
  // P: vocabulary rows of every batch (the sampled pieces, then the original special tokens,
  // then padding rows that the LM never predicts). Build fails for a larger vocabulary.
  int64_t vocab_rows = 8320;
};

// Everything a training step needs; CPU tensors of fixed shapes.
struct ZettBatch {
  int64_t step = 0;
  bool mimick = false;        // warm-up step: only `surface_forms` and `aux_source` are used
  bool identity = false;      // the original tokenizer itself instead of a sampled one
  at::Tensor input_ids;       // [B, T] int64 vocabulary rows, BOS first, right-padded
  at::Tensor labels;          // [B, T] int64 next row, or -100 (padding)
  at::Tensor surface_forms;   // [P, L] int32 decomposition with the original tokenizer
  at::Tensor row_source;      // [P] int64: original id whose rows a row keeps (specials), or -1
  at::Tensor aux_source;      // [P] int64: original id of a one-piece decomposition, or -1
  at::Tensor vocab_bias;      // [P] float: 0 for real rows, -1e4 for padding rows
  int64_t vocab_rows = 0;     // real rows (<= P)
  int64_t text_bytes = 0;     // UTF-8 bytes of the batch texts
  int64_t tokens = 0;         // non-padding labels
  int64_t label_bytes = 0;    // text bytes the labels spell (for bits per byte)
  int64_t truncated = 0;      // decompositions longer than max_len
  double cpu_seconds = 0;     // time to build this batch
  std::string sampler_state;  // TokenizerSampler state after this step (when a save needs it)
};

// Builds batches for one original tokenizer. Thread-safe (Build may run on many threads).
class ZettBatchBuilder {
 public:
  // `original`: the base LM's tokenizer. `bos_id` / `pad_id`: its ids (pad = eos for Llama);
  // both must be special tokens of `original`.
  static absl::StatusOr<std::unique_ptr<ZettBatchBuilder>> Create(
      const tokenizer::Tokenizer& original, int32_t bos_id, int32_t pad_id,
      const ZettBatchOptions& options);

  // Tokenizes `texts` (one per row) with `sampled` and decomposes its vocabulary (+ the original
  // specials, appended after the pieces). A row shorter than seq_len is packed with the next of
  // `fillers` (BOS, then the filler's tokens; the label before that BOS is masked), so a batch
  // is padding only where the fillers ran out; fillers are tokenized only when a row needs one.
  absl::StatusOr<ZettBatch> Build(const std::vector<std::string>& texts,
                                  const SampledTokenizer& sampled,
                                  const std::vector<std::string>& fillers = {}) const;

  // The original tokenizer as the target (what identity transfer evaluates): `texts` tokenized
  // with it as it is, the vocabulary its own byte-level conversion decomposed by itself.
  absl::StatusOr<ZettBatch> BuildIdentity(const std::vector<std::string>& texts,
                                          const std::vector<std::string>& fillers = {}) const;

  // MIMICK warm-up batch: `count` original tokens drawn uniformly (specials excluded), each
  // decomposed to itself (L = 1).
  ZettBatch BuildMimick(int64_t count, uint64_t seed, int64_t step) const;

  const tokenizer::Decomposer& decomposer() const { return *decomposer_; }
  const ZettBatchOptions& options() const { return options_; }
  int32_t pad_id() const { return pad_id_; }

 private:
  ZettBatchBuilder() = default;
  // Vocabulary rows of a batch from a decomposition (one row per surface form, padded to P).
  absl::Status FillVocabulary(const tokenizer::Decomposition& d, ZettBatch* batch) const;
  using Encoder = std::function<absl::StatusOr<std::vector<int32_t>>(const std::string&)>;
  // input_ids / labels: row b is BOS + texts[b] (truncated to T + 1), packed with fillers while
  // it is short; the token, byte and text-byte counts.
  absl::Status FillRows(const std::vector<std::string>& texts,
                        const std::vector<std::string>& fillers, const Encoder& encode,
                        const std::vector<int64_t>& row_bytes, int64_t bos_row, int64_t pad_row,
                        ZettBatch* batch) const;

  const tokenizer::Tokenizer* original_ = nullptr;
  std::unique_ptr<tokenizer::Decomposer> decomposer_;
  std::vector<std::pair<int32_t, std::string>> specials_;  // original (id, content)
  tokenizer::Decomposition identity_;  // the original's own vocabulary, decomposed
  int32_t bos_id_ = 0, pad_id_ = 0;
  int64_t original_size_ = 0;
  ZettBatchOptions options_;
};

}  // namespace zett

#endif  // ZETT_CORE_TRAIN_ZETT_BATCH_H_
