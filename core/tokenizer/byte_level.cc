#include "core/tokenizer/byte_level.h"

#include <array>

#include "core/tokenizer/unicode_text.h"

namespace zett::tokenizer {
namespace {

struct Tables {
  std::array<std::string, 256> byte_to_char;
  std::array<int16_t, 0x200> char_to_byte;  // all table chars are < U+0200
};

const Tables& GetTables() {
  static const Tables* tables = [] {
    auto* t = new Tables();
    t->char_to_byte.fill(-1);
    int next = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      const char32_t cp = printable ? static_cast<char32_t>(b) : 0x100 + next++;
      AppendUtf8(cp, &t->byte_to_char[b]);
      t->char_to_byte[cp] = static_cast<int16_t>(b);
    }
    return t;
  }();
  return *tables;
}

}  // namespace

const std::string& ByteToChar(uint8_t byte) { return GetTables().byte_to_char[byte]; }

std::string BytesToByteChars(std::string_view bytes) {
  const Tables& t = GetTables();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char b : bytes) out += t.byte_to_char[static_cast<uint8_t>(b)];
  return out;
}

int CharToByte(char32_t cp) { return cp < 0x200 ? GetTables().char_to_byte[cp] : -1; }

std::optional<std::string> ByteCharsToBytes(std::string_view chars) {
  std::string out;
  out.reserve(chars.size());
  size_t pos = 0;
  while (pos < chars.size()) {
    char32_t cp;
    pos += DecodeUtf8(chars, pos, &cp);
    const int b = CharToByte(cp);
    if (b < 0) return std::nullopt;
    out.push_back(static_cast<char>(b));
  }
  return out;
}

}  // namespace zett::tokenizer
