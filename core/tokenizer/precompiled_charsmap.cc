#include "core/tokenizer/precompiled_charsmap.h"

#include <unicode/brkiter.h>
#include <unicode/unistr.h>

#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "core/tokenizer/unicode_text.h"

namespace zett::tokenizer {
namespace {

// darts-clone unit accessors.
inline bool HasLeaf(uint32_t unit) { return (unit >> 8) & 1; }
inline uint32_t Value(uint32_t unit) { return unit & ((1U << 31) - 1); }
inline uint32_t Label(uint32_t unit) { return unit & ((1U << 31) | 0xFF); }
inline uint32_t Offset(uint32_t unit) { return (unit >> 10) << ((unit & (1U << 9)) >> 6); }

}  // namespace

absl::StatusOr<PrecompiledCharsmap> PrecompiledCharsmap::Parse(std::string_view blob) {
  PrecompiledCharsmap map;
  if (blob.empty()) return map;
  if (blob.size() < 4) return absl::InvalidArgumentError("precompiled_charsmap: shorter than 4");
  uint32_t trie_size;
  std::memcpy(&trie_size, blob.data(), 4);
  if (trie_size % 4 != 0 || trie_size > blob.size() - 4) {
    return absl::InvalidArgumentError(Cat("precompiled_charsmap: trie size ", trie_size,
                                          " does not fit a blob of ", blob.size()));
  }
  map.units_.resize(trie_size / 4);
  std::memcpy(map.units_.data(), blob.data() + 4, trie_size);
  map.replacements_ = std::string(blob.substr(4 + trie_size));
  if (map.units_.empty()) return absl::InvalidArgumentError("precompiled_charsmap: empty trie");
  return map;
}

template <typename Fn>
void PrecompiledCharsmap::CommonPrefixSearch(std::string_view text, Fn fn) const {
  if (units_.empty()) return;
  const size_t n = units_.size();
  size_t node = Offset(units_[0]);
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    node ^= c;
    if (node >= n) return;
    const uint32_t unit = units_[node];
    if (Label(unit) != c) return;
    node ^= Offset(unit);
    if (node >= n) return;
    if (HasLeaf(unit)) {
      if (!fn(i + 1, Value(units_[node]))) return;
    }
  }
}

std::string_view PrecompiledCharsmap::ReplacementAt(uint32_t offset) const {
  if (offset >= replacements_.size()) return {};
  const size_t end = replacements_.find('\0', offset);
  return std::string_view(replacements_)
      .substr(offset, (end == std::string::npos ? replacements_.size() : end) - offset);
}

bool PrecompiledCharsmap::LongestPrefix(std::string_view text, size_t* consumed,
                                        std::string_view* replacement) const {
  size_t best_len = 0;
  uint32_t best_value = 0;
  CommonPrefixSearch(text, [&](size_t len, uint32_t value) {
    best_len = len;
    best_value = value;
    return true;
  });
  if (best_len == 0) return false;
  *consumed = best_len;
  *replacement = ReplacementAt(best_value);
  return true;
}

bool PrecompiledCharsmap::FirstPrefix(std::string_view chunk, std::string_view* replacement) const {
  bool found = false;
  CommonPrefixSearch(chunk, [&](size_t, uint32_t value) {
    *replacement = ReplacementAt(value);
    found = true;
    return false;
  });
  return found;
}

std::string PrecompiledCharsmap::NormalizeLikeHuggingFace(std::string_view text) const {
  std::string out;
  out.reserve(text.size());
  auto per_char = [&](std::string_view cluster) {
    size_t pos = 0;
    while (pos < cluster.size()) {
      char32_t cp;
      const int len = DecodeUtf8(cluster, pos, &cp);
      std::string_view replacement;
      if (FirstPrefix(cluster.substr(pos, len), &replacement)) {
        out += replacement;
      } else {
        out += cluster.substr(pos, len);
      }
      pos += len;
    }
  };
  // Grapheme clusters via ICU; UTF-16 indices are mapped back to UTF-8 offsets.
  UErrorCode error = U_ZERO_ERROR;
  std::unique_ptr<icu::BreakIterator> breaks(
      icu::BreakIterator::createCharacterInstance(icu::Locale::getRoot(), error));
  if (U_FAILURE(error)) {
    per_char(text);
    return out;
  }
  const icu::UnicodeString u = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  breaks->setText(u);
  size_t byte_pos = 0;
  int32_t prev = breaks->first();
  for (int32_t next = breaks->next(); next != icu::BreakIterator::DONE;
       prev = next, next = breaks->next()) {
    size_t cluster_bytes = 0;
    for (int32_t i = prev; i < next;) {
      const UChar32 c = u.char32At(i);
      cluster_bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
      i += U16_LENGTH(c);
    }
    const std::string_view cluster = text.substr(byte_pos, cluster_bytes);
    byte_pos += cluster_bytes;
    std::string_view replacement;
    if (cluster.size() < 6 && FirstPrefix(cluster, &replacement)) {
      out += replacement;
      continue;
    }
    per_char(cluster);
  }
  return out;
}

}  // namespace zett::tokenizer
