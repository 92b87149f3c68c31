#include "core/tokenizer/tokenizer_file.h"

#include <fstream>
#include <sstream>

#include "core/tokenizer/sentencepiece_model.h"
#include "core/tokenizer/tokenizer_json.h"
#include "core/tokenizer/unicode_text.h"

namespace zett::tokenizer {

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizerBytes(std::string_view bytes) {
  const size_t first = bytes.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && bytes[first] == '{') return LoadTokenizerJson(bytes);
  return LoadSentencePieceModel(bytes);
}

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizerFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(Cat("cannot open tokenizer file ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto tokenizer = LoadTokenizerBytes(buffer.str());
  if (!tokenizer.ok()) {
    return absl::Status(tokenizer.status().code(),
                        AsAbsl(Cat(path, ": ", FromAbsl(tokenizer.status().message()))));
  }
  return tokenizer;
}

}  // namespace zett::tokenizer
