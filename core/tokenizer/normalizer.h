// Normalizers of Hugging Face `tokenizers` (tokenizer.json "normalizer"): text -> text, applied
// to each segment between added tokens. Input is valid UTF-8 (checked once by the Tokenizer).
#ifndef ZETT_CORE_TOKENIZER_NORMALIZER_H_
#define ZETT_CORE_TOKENIZER_NORMALIZER_H_

#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/tokenizer/onig_regex.h"
#include "core/tokenizer/precompiled_charsmap.h"
#include "core/tokenizer/unicode_text.h"

namespace zett::tokenizer {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual absl::Status Normalize(std::string* text) const = 0;
};

class UnicodeNormalizer : public Normalizer {
 public:
  explicit UnicodeNormalizer(NormalForm form) : form_(form) {}
  absl::Status Normalize(std::string* text) const override;

 private:
  NormalForm form_;
};

class LowercaseNormalizer : public Normalizer {
 public:
  absl::Status Normalize(std::string* text) const override;
};

// Removes leading/trailing Unicode whitespace.
class StripNormalizer : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  absl::Status Normalize(std::string* text) const override;

 private:
  bool left_, right_;
};

// Removes nonspacing marks (meant to follow NFD).
class StripAccentsNormalizer : public Normalizer {
 public:
  absl::Status Normalize(std::string* text) const override;
};

// Replaces every match of a literal or regex pattern with `content`.
class ReplaceNormalizer : public Normalizer {
 public:
  static absl::StatusOr<std::unique_ptr<ReplaceNormalizer>> Create(std::string_view pattern,
                                                                   bool is_regex,
                                                                   std::string content);
  absl::Status Normalize(std::string* text) const override;

 private:
  std::unique_ptr<OnigRegex> regex_;  // null for a literal pattern
  std::string literal_;
  std::string content_;
};

// Prepends `prepend` to non-empty text.
class PrependNormalizer : public Normalizer {
 public:
  explicit PrependNormalizer(std::string prepend) : prepend_(std::move(prepend)) {}
  absl::Status Normalize(std::string* text) const override;

 private:
  std::string prepend_;
};

struct BertNormalizerOptions {
  bool clean_text = true;
  bool handle_chinese_chars = true;
  bool strip_accents = true;  // JSON null: follows lowercase
  bool lowercase = true;
};

class BertNormalizer : public Normalizer {
 public:
  explicit BertNormalizer(BertNormalizerOptions options) : options_(options) {}
  absl::Status Normalize(std::string* text) const override;

 private:
  BertNormalizerOptions options_;
};

// SentencePiece precompiled_charsmap applied the way Hugging Face's `Precompiled` does.
class PrecompiledNormalizer : public Normalizer {
 public:
  explicit PrecompiledNormalizer(PrecompiledCharsmap charsmap) : charsmap_(std::move(charsmap)) {}
  absl::Status Normalize(std::string* text) const override;

 private:
  PrecompiledCharsmap charsmap_;
};

// Hugging Face's ByteLevel normalizer: every byte to its GPT-2 char.
class ByteLevelNormalizer : public Normalizer {
 public:
  absl::Status Normalize(std::string* text) const override;
};

class SequenceNormalizer : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> normalizers)
      : normalizers_(std::move(normalizers)) {}
  absl::Status Normalize(std::string* text) const override;

 private:
  std::vector<std::unique_ptr<Normalizer>> normalizers_;
};

// Builds a normalizer from its tokenizer.json object; `path` locates errors. JSON null gives
// a null pointer (no normalizer). `depth` counts enclosing Sequences (bounded).
absl::StatusOr<std::unique_ptr<Normalizer>> NormalizerFromJson(const nlohmann::json& json,
                                                               std::string_view path,
                                                               int depth = 0);

}  // namespace zett::tokenizer

#endif  // ZETT_CORE_TOKENIZER_NORMALIZER_H_
