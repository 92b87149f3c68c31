// GPT-2's reversible byte <-> printable-char table (the `Ġ` convention of byte-level BPE).
// Bytes '!'..'~', '¡'..'¬', '®'..'ÿ' map to the code point of the same value; the other 68
// bytes map to U+0100 + n in byte order (0x20 -> 'Ġ', '\n' -> 'Ċ', '\t' -> 'ĉ').
#ifndef ZETT_CORE_TOKENIZER_BYTE_LEVEL_H_
#define ZETT_CORE_TOKENIZER_BYTE_LEVEL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace zett::tokenizer {

// UTF-8 encoding of the char that stands for `byte`.
const std::string& ByteToChar(uint8_t byte);
// Maps every byte of `bytes` to its char: the byte-level surface form of raw bytes.
std::string BytesToByteChars(std::string_view bytes);
// Inverse of BytesToByteChars; nullopt when `chars` holds a char outside the table.
std::optional<std::string> ByteCharsToBytes(std::string_view chars);
// The byte a code point stands for, or -1.
int CharToByte(char32_t code_point);

}  // namespace zett::tokenizer

#endif  // ZETT_CORE_TOKENIZER_BYTE_LEVEL_H_
