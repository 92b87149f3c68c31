// JSON files (Hugging Face config.json, generation_config.json, tokenizer.json, …).
#ifndef ZETT_CORE_IO_JSON_FILE_H_
#define ZETT_CORE_IO_JSON_FILE_H_

#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/statusor.h"

namespace zett {

// The whole file as bytes; NOT_FOUND / INTERNAL errors name the path.
absl::StatusOr<std::string> ReadFileToString(const std::string& path);

// Writes via a temporary file and rename.
absl::Status WriteStringToFile(const std::string& path, const std::string& contents);

// Parses a JSON file; INVALID_ARGUMENT with the path, byte offset and parser message on errors.
absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path);

// Writes pretty-printed JSON (indent 2) followed by a newline.
absl::Status WriteJsonFile(const std::string& path, const nlohmann::json& value);

}  // namespace zett

#endif  // ZETT_CORE_IO_JSON_FILE_H_
