// UTF-8 helpers and Unicode properties (ICU) shared by normalizers, pre-tokenizers and models.
// Hugging Face `tokenizers` uses Rust's char properties; the functions below name which one
// each mirrors so behaviour matches on the same Unicode version as closely as ICU 72 allows.
#ifndef ZETT_CORE_TOKENIZER_UNICODE_TEXT_H_
#define ZETT_CORE_TOKENIZER_UNICODE_TEXT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace zett::tokenizer {

// Debian's Abseil is built with its own string_view (ABSL_OPTION_USE_STD_STRING_VIEW=0);
// this bridges std::string_view into absl::StrCat and heterogeneous hash-map lookups.
inline absl::string_view AsAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}
inline std::string_view FromAbsl(absl::string_view s) {
  return std::string_view(s.data(), s.size());
}

// absl::StrCat for std::string_view pieces (error messages).
inline void CatPiece(std::string* out, std::string_view s) { out->append(s.data(), s.size()); }
inline void CatPiece(std::string* out, const char* s) { out->append(s); }
inline void CatPiece(std::string* out, const std::string& s) { out->append(s); }
inline void CatPiece(std::string* out, char c) { out->push_back(c); }
template <typename T, typename = std::enable_if_t<std::is_arithmetic_v<T>>>
void CatPiece(std::string* out, T value) {
  out->append(std::to_string(value));
}
template <typename... Args>
std::string Cat(const Args&... args) {
  std::string out;
  (CatPiece(&out, args), ...);
  return out;
}

// Decodes the code point at text[pos] and returns its length in bytes (1..4). Invalid
// sequences decode as U+FFFD with length 1 so that callers always make progress.
int DecodeUtf8(std::string_view text, size_t pos, char32_t* code_point);

// Length in bytes of the UTF-8 sequence starting with `lead` (1 for invalid lead bytes).
inline int Utf8Length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  if ((lead >> 3) == 0x1E) return 4;
  return 1;
}

void AppendUtf8(char32_t code_point, std::string* out);

// OK when `text` is well-formed UTF-8; otherwise names the first bad byte offset.
absl::Status ValidateUtf8(std::string_view text, std::string_view what);

// Rust char::is_whitespace (Unicode White_Space).
bool IsWhitespace(char32_t c);
// HF `is_punc`: ASCII punctuation or general category P*.
bool IsPunctuation(char32_t c);
// Rust char::is_alphanumeric (Alphabetic or Numeric) — used by \w-like splitting.
bool IsAlphanumeric(char32_t c);
// General category C* (Cc, Cf, Cs, Co, Cn), as HF BertNormalizer's is_control.
bool IsControl(char32_t c);
// Nonspacing mark (Mn) as HF's StripAccents/BertNormalizer remove them: only marks of
// Unicode <= 8.0 (its table's version).
bool IsNonspacingMark(char32_t c);
// CJK ideograph ranges used by BERT's handle_chinese_chars.
bool IsChineseChar(char32_t c);
bool IsDigit(char32_t c);
// Rust char::is_numeric (Nd, Nl, No), used by the Digits pre-tokenizer.
bool IsNumeric(char32_t c);

enum class NormalForm { kNfc, kNfd, kNfkc, kNfkd };
// Unicode normalization via ICU. Invalid UTF-8 is an error.
absl::StatusOr<std::string> NormalizeUnicode(std::string_view text, NormalForm form);
// Per-code-point full lowercase mapping (Rust char::to_lowercase, no final-sigma context).
std::string Lowercase(std::string_view text);

}  // namespace zett::tokenizer

#endif  // ZETT_CORE_TOKENIZER_UNICODE_TEXT_H_
