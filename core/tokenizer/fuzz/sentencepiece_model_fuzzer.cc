// libFuzzer target: arbitrary bytes as a SentencePiece .model (wire format, pieces, charsmap),
// and its conversion to tokenizer.json (which must then load).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/tokenizer/precompiled_charsmap.h"
#include "core/tokenizer/sentencepiece_model.h"
#include "core/tokenizer/sentencepiece_to_json.h"
#include "core/tokenizer/tokenizer_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto tokenizer = zett::tokenizer::LoadSentencePieceModel(bytes);
  if (tokenizer.ok()) (void)(*tokenizer)->Encode("a  b ü 日本 🙂");
  auto converted = zett::tokenizer::ConvertSentencePieceModel(bytes);
  if (converted.ok()) {
    auto json = zett::tokenizer::LoadTokenizerJson(*converted);
    if (json.ok()) (void)(*json)->Encode("a  b ü 日本 🙂");
  }
  // The same bytes as a raw precompiled_charsmap blob.
  auto charsmap = zett::tokenizer::PrecompiledCharsmap::Parse(bytes);
  if (charsmap.ok()) (void)charsmap->NormalizeLikeHuggingFace("abc ﬁ Ⅻ ü");
  return 0;
}
