// Training documents encoded once with a fixed tokenizer, and training rows drawn from them.
// Continued training on a fixed target (core/train/continue_train.h) sees the same documents
// thousands of times; encoding them once instead of every step keeps a step on the device.
#ifndef ZETT_CORE_TRAIN_ENCODED_TEXTS_H_
#define ZETT_CORE_TRAIN_ENCODED_TEXTS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/train/training_texts.h"

namespace zett {

class EncodedTexts {
 public:
  // Maps a document to its ids, without BOS.
  using Encoder = std::function<absl::StatusOr<std::vector<int32_t>>(const std::string&)>;

  // Every document of `texts` through `encode`, on `threads` threads (`encode` must be safe to
  // call concurrently). The first error is returned.
  static absl::StatusOr<EncodedTexts> Encode(const TrainingTexts& texts, const Encoder& encode,
                                             int64_t threads);
  static EncodedTexts FromDocuments(std::vector<std::vector<std::vector<int32_t>>> per_language);

  // `count` rows of at most `length` ids, each [bos] + a window of one document: a language
  // with probability ∝ documents^alpha, a document uniformly, a window start uniformly among
  // those that fit. With `pack`, a row shorter than `length` is filled with further drawn
  // documents, each from its own [bos] (the last one cut), so every row has `length` ids.
  // A pure function of (seed, step).
  std::vector<std::vector<int32_t>> SampleRows(int64_t count, int64_t length, int32_t bos,
                                               double alpha, bool pack, uint64_t seed,
                                               int64_t step) const;

  int64_t tokens() const;  // over all documents

 private:
  std::vector<std::vector<std::vector<int32_t>>> documents_;  // [language][document] → ids
};

}  // namespace zett

#endif  // ZETT_CORE_TRAIN_ENCODED_TEXTS_H_
