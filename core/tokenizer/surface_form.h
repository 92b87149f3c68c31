// zett's byte-level conversion (`convert_to_byte_level` in bminixhofer/zett
// zett/tokenizer_converters.py): every token of a vocabulary becomes its GPT-2 byte-char
// "surface form", which is what the hypernetwork sees.
#ifndef ZETT_CORE_TOKENIZER_SURFACE_FORM_H_
#define ZETT_CORE_TOKENIZER_SURFACE_FORM_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/tokenizer/model.h"
#include "core/tokenizer/tokenizer.h"

namespace zett::tokenizer {

// How the strings of a plain token list encode text (the server's token-list input).
enum class TokenKind {
  kByteLevel,      // already GPT-2 byte chars (`Ġhello`)
  kSentencePiece,  // `▁` stands for a space, `<0xNN>` for one byte
  kWordPiece,      // `##x` continues a word, other tokens start one (get a leading space)
  kPlainText,      // each token is its own UTF-8 text
};

// Byte-level surface form of one token of a list of the given kind.
std::string TokenToByteLevel(std::string_view token, TokenKind kind);

// Per-token flags of a converted vocabulary (bit set).
enum SurfaceFormFlag : uint8_t {
  kSpecial = 1,             // kept atomic (a special token)
  kAddedByConversion = 2,   // appended: a missing byte char, a whitespace run or a BPE helper
  kRenamedWhitespace = 4,   // multi-whitespace token renamed `<unused_whitespace__i>`
  kByteFallbackMapped = 8,  // `<0xNN>` piece mapped to its byte char
  kTruncated = 16,          // decomposition longer than max_len (set by Decompose)
};

struct ByteLevelVocabulary {
  std::vector<std::string> surface_forms;  // id -> surface form; may be longer than the input
  std::vector<uint8_t> flags;              // SurfaceFormFlag bits per id
  int32_t original_size = 0;               // ids below this are the tokenizer's own
  std::vector<std::pair<int32_t, std::string>> special_tokens;  // (id, content), ascending id
};

struct ConversionOptions {
  // zett's make_whitespace_consistent (on for target tokenizers).
  bool make_whitespace_consistent = false;
  // Re-insert these special tokens at their ids, dropping the tokenizer's own (zett's
  // match_special_tokens_to: the original tokenizer's specials).
  const ByteLevelVocabulary* match_special_tokens_to = nullptr;
};

// The converted vocabulary. Special tokens are added tokens with special=true. Deterministic.
absl::StatusOr<ByteLevelVocabulary> ConvertToByteLevel(const Tokenizer& tokenizer,
                                                       const ConversionOptions& options = {});

// The model of the converted tokenizer (zett's converted BPE/Unigram/WordPiece over byte
// chars): what decomposes a surface form with `Tokenize`. For BPE, converted merges plus the
// helper merges zett adds so every multi-byte char stays reachable. `converted` is the result
// of ConvertToByteLevel(tokenizer) without options; it gains the helper vocabulary.
absl::StatusOr<std::unique_ptr<Model>> BuildByteLevelModel(const Tokenizer& tokenizer,
                                                           ByteLevelVocabulary* converted);

}  // namespace zett::tokenizer

#endif  // ZETT_CORE_TOKENIZER_SURFACE_FORM_H_
