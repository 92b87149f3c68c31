// Loads a tokenizer from a file: a Hugging Face tokenizer.json, or a SentencePiece .model.
#ifndef ZETT_CORE_TOKENIZER_TOKENIZER_FILE_H_
#define ZETT_CORE_TOKENIZER_TOKENIZER_FILE_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/tokenizer/special_tokens_map.h"
#include "core/tokenizer/tokenizer.h"

namespace zett::tokenizer {

// Content starting with '{' (after whitespace) is tokenizer.json, anything else a .model.
// `config`: tokenizer_config.json / special_tokens_map.json, which decide the special tokens
// (special_tokens_map.h); without them the special=true added tokens are.
absl::StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizerBytes(
    std::string_view bytes, const TokenizerConfigFiles& config = {});
// The file, with the config files found beside it.
absl::StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizerFile(const std::string& path);

}  // namespace zett::tokenizer

#endif  // ZETT_CORE_TOKENIZER_TOKENIZER_FILE_H_
