// Pre-tokenizers of Hugging Face `tokenizers` (tokenizer.json "pre_tokenizer"): split a
// normalized segment into pieces that the model tokenizes independently.
#ifndef ZETT_CORE_TOKENIZER_PRE_TOKENIZER_H_
#define ZETT_CORE_TOKENIZER_PRE_TOKENIZER_H_

#include <algorithm>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/tokenizer/onig_regex.h"

namespace zett::tokenizer {

// A piece of a segment. `at_origin`: the piece starts at offset 0 of the input text (what
// Metaspace's prepend_scheme "first" tests).
struct Piece {
  std::string text;
  bool at_origin = false;
};

// How a split treats the matched delimiters (HF SplitDelimiterBehavior).
enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

// Splits `piece` at `matches` (byte ranges, sorted, non-overlapping) and appends the non-empty
// results to `out`. With `invert`, the matches are the kept content and the gaps the delimiters.
void SplitPiece(const Piece& piece, const std::vector<std::pair<size_t, size_t>>& matches,
                SplitBehavior behavior, bool invert, std::vector<Piece>* out);

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Replaces `pieces` with their split. Input is valid UTF-8.
  virtual void PreTokenize(std::vector<Piece>* pieces) const = 0;
};

// GPT-2's byte-level step: optional prefix space, optional split by the GPT-2 regex, then each
// byte mapped to its printable char.
class ByteLevelPreTokenizer : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex);
  void PreTokenize(std::vector<Piece>* pieces) const override;

 private:
  bool add_prefix_space_;
  std::unique_ptr<OnigRegex> regex_;  // null when use_regex is false
};

class SplitPreTokenizer : public PreTokenizer {
 public:
  static absl::StatusOr<std::unique_ptr<SplitPreTokenizer>> Create(std::string_view pattern,
                                                                   bool is_regex,
                                                                   SplitBehavior behavior,
                                                                   bool invert);
  void PreTokenize(std::vector<Piece>* pieces) const override;

 private:
  std::unique_ptr<OnigRegex> regex_;
  SplitBehavior behavior_ = SplitBehavior::kRemoved;
  bool invert_ = false;
};

enum class PrependScheme { kAlways, kFirst, kNever };

// SentencePiece-style: ' ' -> replacement (default "▁"), optional prefix, optional split
// before each replacement char.
class MetaspacePreTokenizer : public PreTokenizer {
 public:
  MetaspacePreTokenizer(std::string replacement, PrependScheme scheme, bool split)
      : replacement_(std::move(replacement)), scheme_(scheme), split_(split) {}
  void PreTokenize(std::vector<Piece>* pieces) const override;

 private:
  std::string replacement_;
  PrependScheme scheme_;
  bool split_;
};

// Splits at chars for which `predicate` holds (Whitespace/Punctuation/Digits/Delimiter).
class CharSplitPreTokenizer : public PreTokenizer {
 public:
  CharSplitPreTokenizer(std::function<bool(char32_t)> predicate, SplitBehavior behavior)
      : predicate_(std::move(predicate)), behavior_(behavior) {}
  void PreTokenize(std::vector<Piece>* pieces) const override;

 private:
  std::function<bool(char32_t)> predicate_;
  SplitBehavior behavior_;
};

class SequencePreTokenizer : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> pre_tokenizers)
      : pre_tokenizers_(std::move(pre_tokenizers)) {}
  void PreTokenize(std::vector<Piece>* pieces) const override;
  const std::vector<std::unique_ptr<PreTokenizer>>& pre_tokenizers() const {
    return pre_tokenizers_;
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> pre_tokenizers_;
};

// GPT-2's pre-tokenization regex (ByteLevel use_regex).
inline constexpr std::string_view kGpt2SplitRegex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
// zett's SPLIT_REGEX (zett/utils.py): GPT-2's with letters and marks kept together.
inline constexpr std::string_view kZettSplitRegex =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?[\p{L}\p{M}]+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// Builds a pre-tokenizer from its tokenizer.json object (null JSON: null pointer). `depth`
// counts enclosing Sequences (bounded).
absl::StatusOr<std::unique_ptr<PreTokenizer>> PreTokenizerFromJson(const nlohmann::json& json,
                                                                   std::string_view path,
                                                                   int depth = 0);

}  // namespace zett::tokenizer

#endif  // ZETT_CORE_TOKENIZER_PRE_TOKENIZER_H_
