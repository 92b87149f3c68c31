// libFuzzer target: arbitrary bytes as tokenizer.json. Loading must return a status, never
// crash; a loaded tokenizer must encode, pre-tokenize and convert to byte level.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/tokenizer/surface_form.h"
#include "core/tokenizer/tokenizer_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto tokenizer = zett::tokenizer::LoadTokenizerJson(bytes);
  if (!tokenizer.ok()) return 0;
  (void)(*tokenizer)->Encode("Hello wörld  \t 12345 日本語 🙂", true);
  (void)(*tokenizer)->Encode(bytes);
  if ((*tokenizer)->vocab_size() < 4096) (void)zett::tokenizer::ConvertToByteLevel(**tokenizer);
  return 0;
}
