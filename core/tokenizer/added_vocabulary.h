// Added tokens (tokenizer.json "added_tokens"): matched in the text before the model runs and
// emitted atomically. Tokens with normalized=false are matched on the raw text, the others on
// the normalized text (as HF's AddedVocabulary). Matching is leftmost-longest; lstrip/rstrip
// absorb adjacent whitespace, single_word requires non-word neighbours.
#ifndef ZETT_CORE_TOKENIZER_ADDED_VOCABULARY_H_
#define ZETT_CORE_TOKENIZER_ADDED_VOCABULARY_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace zett::tokenizer {

struct AddedToken {
  int32_t id = 0;
  std::string content;
  bool special = false;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = true;
};

// A span of text, or an added token's id when `added_id` >= 0.
struct TextSpan {
  size_t begin = 0, end = 0;
  int32_t added_id = -1;
};

class AddedTokenMatcher {
 public:
  // `patterns[i]` is what is searched for token `ids[i]` (normalized content or raw content).
  void Add(std::string pattern, const AddedToken& token);
  bool empty() const { return entries_.empty(); }
  // Covers `text` with spans: the matched added tokens and the text between them.
  std::vector<TextSpan> Split(std::string_view text) const;

 private:
  struct Entry {
    std::string pattern;
    int32_t id;
    bool single_word, lstrip, rstrip;
  };
  std::vector<Entry> entries_;
  // first byte -> entry indices, longest pattern first
  absl::flat_hash_map<unsigned char, std::vector<size_t>> by_first_byte_;
};

}  // namespace zett::tokenizer

#endif  // ZETT_CORE_TOKENIZER_ADDED_VOCABULARY_H_
