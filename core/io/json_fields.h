// Typed field access for JSON documents (tokenizer.json, config.json, hypernet configs): every
// error names the document, the field's path and what was expected, instead of an nlohmann
// exception. An absent field and a null field are the same: the fallback applies.
#ifndef ZETT_CORE_IO_JSON_FIELDS_H_
#define ZETT_CORE_IO_JSON_FIELDS_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace zett::json_fields {

using Json = nlohmann::json;

// Where an object sits: errors read "<document>: <path>.<key>: <message>".
struct Where {
  std::string_view document;  // "tokenizer.json", "config.json", …
  std::string_view path;      // JSON path of the object; empty at the top level
};

std::string Join(std::string_view path, std::string_view key);

// INVALID_ARGUMENT "<document>: <path>: <message>".
absl::Status Error(std::string_view document, std::string_view path, std::string_view message);

// The value at key, or nullptr when absent, null, or `object` is not an object.
const Json* Find(const Json& object, std::string_view key);

absl::StatusOr<std::string> String(const Json& object, std::string_view key, Where where,
                                   std::optional<std::string> fallback = std::nullopt);
absl::StatusOr<std::optional<std::string>> OptionalString(const Json& object, std::string_view key,
                                                          Where where);
absl::StatusOr<bool> Bool(const Json& object, std::string_view key, Where where,
                          std::optional<bool> fallback = std::nullopt);
absl::StatusOr<int64_t> Int(const Json& object, std::string_view key, Where where,
                            std::optional<int64_t> fallback = std::nullopt);
absl::StatusOr<std::optional<int64_t>> OptionalInt(const Json& object, std::string_view key,
                                                   Where where);
absl::StatusOr<double> Double(const Json& object, std::string_view key, Where where,
                              std::optional<double> fallback = std::nullopt);
// Absent or null: an empty list.
absl::StatusOr<std::vector<std::string>> StringList(const Json& object, std::string_view key,
                                                    Where where);

}  // namespace zett::json_fields

#endif  // ZETT_CORE_IO_JSON_FIELDS_H_
