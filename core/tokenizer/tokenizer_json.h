// Loads a Hugging Face `tokenizer.json` (format "1.0" of huggingface/tokenizers).
#ifndef ZETT_CORE_TOKENIZER_TOKENIZER_JSON_H_
#define ZETT_CORE_TOKENIZER_TOKENIZER_JSON_H_

#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "core/tokenizer/tokenizer.h"

namespace zett::tokenizer {

// Parses the file's content. Errors are InvalidArgument and name the JSON path: bad JSON,
// unknown component types, invalid regex, ids out of range, duplicate tokens, merge parts
// missing from the vocabulary.
absl::StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizerJson(std::string_view json_text);

}  // namespace zett::tokenizer

#endif  // ZETT_CORE_TOKENIZER_TOKENIZER_JSON_H_
