#include "core/tokenizer/added_vocabulary.h"

#include <algorithm>

#include "core/tokenizer/unicode_text.h"

namespace zett::tokenizer {
namespace {

// The code point ending just before `pos`.
char32_t CharBefore(std::string_view text, size_t pos) {
  size_t start = pos - 1;
  while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
  char32_t cp;
  DecodeUtf8(text, start, &cp);
  return cp;
}

bool IsWordChar(char32_t c) { return c == '_' || IsAlphanumeric(c); }

}  // namespace

void AddedTokenMatcher::Add(std::string pattern, const AddedToken& token) {
  if (pattern.empty()) return;
  const unsigned char first = static_cast<unsigned char>(pattern[0]);
  entries_.push_back({std::move(pattern), token.id, token.single_word, token.lstrip, token.rstrip});
  auto& bucket = by_first_byte_[first];
  bucket.push_back(entries_.size() - 1);
  std::stable_sort(bucket.begin(), bucket.end(), [&](size_t a, size_t b) {
    return entries_[a].pattern.size() > entries_[b].pattern.size();
  });
}

std::vector<TextSpan> AddedTokenMatcher::Split(std::string_view text) const {
  std::vector<TextSpan> spans;
  size_t covered = 0;  // end of the last emitted span
  size_t pos = 0;
  while (pos < text.size()) {
    auto bucket = by_first_byte_.find(static_cast<unsigned char>(text[pos]));
    const Entry* match = nullptr;
    if (bucket != by_first_byte_.end()) {
      for (size_t index : bucket->second) {
        const Entry& e = entries_[index];
        if (text.compare(pos, e.pattern.size(), e.pattern) != 0) continue;
        if (e.single_word) {
          const size_t end = pos + e.pattern.size();
          char32_t next = 0;
          if (end < text.size()) DecodeUtf8(text, end, &next);
          if ((pos > 0 && IsWordChar(CharBefore(text, pos))) ||
              (end < text.size() && IsWordChar(next))) {
            continue;
          }
        }
        match = &e;
        break;
      }
    }
    if (match == nullptr) {
      pos += Utf8Length(static_cast<unsigned char>(text[pos]));
      continue;
    }
    size_t begin = pos;
    size_t end = pos + match->pattern.size();
    if (match->lstrip) {
      while (begin > covered) {
        const char32_t c = CharBefore(text, begin);
        if (!IsWhitespace(c)) break;
        size_t start = begin - 1;
        while (start > covered && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
        begin = start;
      }
    }
    if (match->rstrip) {
      while (end < text.size()) {
        char32_t c;
        const int len = DecodeUtf8(text, end, &c);
        if (!IsWhitespace(c)) break;
        end += len;
      }
    }
    if (begin > covered) spans.push_back({covered, begin, -1});
    spans.push_back({begin, end, match->id});
    covered = end;
    pos = end;
  }
  if (covered < text.size()) spans.push_back({covered, text.size(), -1});
  return spans;
}

}  // namespace zett::tokenizer
