// Oniguruma regex (the engine Hugging Face `tokenizers` uses), UTF-8, Ruby syntax, so that
// look-ahead patterns such as `\s+(?!\S)` behave as in the reference.
#ifndef ZETT_CORE_TOKENIZER_ONIG_REGEX_H_
#define ZETT_CORE_TOKENIZER_ONIG_REGEX_H_

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace zett::tokenizer {

class OnigRegex {
 public:
  // Compiles `pattern`; an invalid pattern gives InvalidArgument with Oniguruma's message.
  static absl::StatusOr<std::unique_ptr<OnigRegex>> Compile(std::string_view pattern);
  // Escapes `literal` so that it matches itself.
  static std::string Escape(std::string_view literal);
  ~OnigRegex();
  OnigRegex(const OnigRegex&) = delete;
  OnigRegex& operator=(const OnigRegex&) = delete;

  // Non-overlapping matches, left to right, as byte ranges [begin, end). After an empty
  // match the search resumes one character later. Thread-safe (per-call match region).
  std::vector<std::pair<size_t, size_t>> FindAll(std::string_view text) const;
  const std::string& pattern() const { return pattern_; }

 private:
  OnigRegex(void* regex, std::string pattern) : regex_(regex), pattern_(std::move(pattern)) {}
  void* regex_;  // regex_t*
  std::string pattern_;
};

}  // namespace zett::tokenizer

#endif  // ZETT_CORE_TOKENIZER_ONIG_REGEX_H_
