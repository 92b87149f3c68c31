// libFuzzer target: arbitrary bytes as a SentencePiece .model (wire format, pieces, charsmap).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/tokenizer/precompiled_charsmap.h"
#include "core/tokenizer/sentencepiece_model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto tokenizer = zett::tokenizer::LoadSentencePieceModel(bytes);
  if (tokenizer.ok()) (void)(*tokenizer)->Encode("a  b ü 日本 🙂");
  // The same bytes as a raw precompiled_charsmap blob.
  auto charsmap = zett::tokenizer::PrecompiledCharsmap::Parse(bytes);
  if (charsmap.ok()) (void)charsmap->NormalizeLikeHuggingFace("abc ﬁ Ⅻ ü");
  return 0;
}
