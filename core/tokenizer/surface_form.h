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
  int32_t original_size = 0;               // the tokenizer's len(): ids below are its own
  // (id, content) of the special tokens (transformers' all_special_tokens), ascending id.
  std::vector<std::pair<int32_t, std::string>> special_tokens;
  // What the converted model is built from (BuildByteLevelModel): for BPE the merges in rank
  // order (helper merges first), for Unigram one score per surface form.
  std::vector<std::pair<std::string, std::string>> bpe_merges;
  std::vector<double> unigram_scores;
};

struct ConversionOptions {
  // zett's make_whitespace_consistent (on for target tokenizers).
  bool make_whitespace_consistent = false;
  // Re-insert these special tokens at their ids, dropping the tokenizer's own (zett's
  // match_special_tokens_to: the original tokenizer's specials).
  const ByteLevelVocabulary* match_special_tokens_to = nullptr;
  // The order in which helper merges are derived from the multi-byte atoms that no merge
  // builds. zett iterates a Python set here, so its order changes with PYTHONHASHSEED; ours is
  // ascending byte order (0). Any other value shuffles the atoms with that seed: only for
  // finding which decompositions depend on this order (tests, docs/tokenizers.md).
  uint64_t helper_order_seed = 0;
};

// zett's convert_to_byte_level, step for step: surface forms (special tokens kept as they are),
// `<0xNN>` pieces mapped to their byte char (NN < 0xFF, as zett's range(255)), missing byte
// chars appended, optionally whitespace made consistent and the original's special tokens put
// at their ids, then for BPE the helper tokens that keep every token reachable (sorted,
// appended). Special tokens are the tokenizer's AllSpecialTokens(). Deterministic.
absl::StatusOr<ByteLevelVocabulary> ConvertToByteLevel(const Tokenizer& tokenizer,
                                                       const ConversionOptions& options = {});

// The model of the converted tokenizer (zett's converted BPE/Unigram/WordPiece over byte
// chars): what decomposes a surface form with `Tokenize`. `converted` is the result of
// ConvertToByteLevel(tokenizer) without options.
absl::StatusOr<std::unique_ptr<Model>> BuildByteLevelModel(const Tokenizer& tokenizer,
                                                           const ByteLevelVocabulary& converted);

}  // namespace zett::tokenizer

#endif  // ZETT_CORE_TOKENIZER_SURFACE_FORM_H_
