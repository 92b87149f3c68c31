// SentencePiece's precompiled normalization rules (`precompiled_charsmap`): a darts-clone
// double-array trie over UTF-8 input sequences whose values are offsets into a blob of
// NUL-terminated replacement strings. Layout: uint32 trie size in bytes (little-endian), the
// trie units, then the replacement blob.
#ifndef ZETT_CORE_TOKENIZER_PRECOMPILED_CHARSMAP_H_
#define ZETT_CORE_TOKENIZER_PRECOMPILED_CHARSMAP_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace zett::tokenizer {

class PrecompiledCharsmap {
 public:
  // Validates the layout; an empty blob gives an empty (identity) map.
  static absl::StatusOr<PrecompiledCharsmap> Parse(std::string_view blob);

  // Longest rule matching a prefix of `text`: sets *consumed (bytes of text) and returns the
  // replacement. Returns false when no rule matches.
  bool LongestPrefix(std::string_view text, size_t* consumed, std::string_view* replacement) const;
  // Hugging Face's `Precompiled::transform`: the replacement of the FIRST (shortest) rule
  // matching a prefix of `chunk`, regardless of the match length.
  bool FirstPrefix(std::string_view chunk, std::string_view* replacement) const;

  // Hugging Face's Precompiled normalizer: per extended grapheme cluster (< 6 bytes) try the
  // whole cluster, else each char.
  std::string NormalizeLikeHuggingFace(std::string_view text) const;
  bool empty() const { return units_.empty(); }

 private:
  // Calls fn(length, value) for every rule that is a prefix of text, shortest first.
  template <typename Fn>
  void CommonPrefixSearch(std::string_view text, Fn fn) const;
  std::string_view ReplacementAt(uint32_t offset) const;

  std::vector<uint32_t> units_;
  std::string replacements_;
};

}  // namespace zett::tokenizer

#endif  // ZETT_CORE_TOKENIZER_PRECOMPILED_CHARSMAP_H_
