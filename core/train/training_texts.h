// The training text of zett-train: documents of per-language files
// (data/corpus/<split>/<lang>.txt), and spans of them drawn as a pure function of (seed, step).
#ifndef ZETT_CORE_TRAIN_TRAINING_TEXTS_H_
#define ZETT_CORE_TRAIN_TRAINING_TEXTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

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
  const std::vector<std::vector<std::string>>& documents_by_language() const { return documents_; }

 private:
  std::vector<std::vector<std::string>> documents_;  // [language][document]
  std::vector<std::string> names_;
};

}  // namespace zett

#endif  // ZETT_CORE_TRAIN_TRAINING_TEXTS_H_
