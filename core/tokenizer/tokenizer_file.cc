#include "core/tokenizer/tokenizer_file.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "core/tokenizer/sentencepiece_model.h"
#include "core/tokenizer/tokenizer_json.h"
#include "core/tokenizer/unicode_text.h"
#include "core/util/status_macros.h"

namespace zett::tokenizer {

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizerBytes(std::string_view bytes,
                                                              const TokenizerConfigFiles& config) {
  const size_t first = bytes.find_first_not_of(" \t\r\n");
  const bool json = first != std::string_view::npos && bytes[first] == '{';
  absl::StatusOr<std::unique_ptr<Tokenizer>> loaded =
      json ? LoadTokenizerJson(bytes) : LoadSentencePieceModel(bytes);
  if (!json && !loaded.ok() && absl::IsInvalidArgument(loaded.status())) {
    // Say what was tried: a stray text file should not read like a broken protobuf only.
    return absl::InvalidArgumentError(AsAbsl(
        Cat("neither a tokenizer.json (it does not start with '{') nor a SentencePiece .model: ",
            FromAbsl(loaded.status().message()))));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Tokenizer> tokenizer, std::move(loaded));
  if (!config.empty()) {
    ASSIGN_OR_RETURN(SpecialTokensMap map, ParseSpecialTokensMap(config));
    tokenizer->SetSpecialTokensMap(std::move(map));
  }
  return tokenizer;
}

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizerFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(Cat("cannot open tokenizer file ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string directory = std::filesystem::path(path).parent_path().string();
  ASSIGN_OR_RETURN(TokenizerConfigFiles config,
                   ReadTokenizerConfigFiles(directory.empty() ? "." : directory));
  auto tokenizer = LoadTokenizerBytes(buffer.str(), config);
  if (!tokenizer.ok()) {
    return absl::Status(tokenizer.status().code(),
                        AsAbsl(Cat(path, ": ", FromAbsl(tokenizer.status().message()))));
  }
  return tokenizer;
}

}  // namespace zett::tokenizer
