// Typed, located field access for tokenizer.json: every error names the JSON path
// (e.g. "model.vocab") and what was expected, instead of an nlohmann exception.
#ifndef ZETT_CORE_TOKENIZER_JSON_FIELDS_H_
#define ZETT_CORE_TOKENIZER_JSON_FIELDS_H_

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/tokenizer/unicode_text.h"

namespace zett::tokenizer::json_fields {

using Json = nlohmann::json;

inline std::string Join(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : Cat(path, ".", key);
}

inline absl::Status Error(std::string_view path, std::string_view message) {
  return absl::InvalidArgumentError(Cat("tokenizer.json: ", path, ": ", message));
}

// The value at key, or nullptr when absent or null.
inline const Json* Find(const Json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(std::string(key));
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

inline absl::StatusOr<std::string> String(const Json& object, std::string_view key,
                                          std::string_view path,
                                          std::optional<std::string> fallback = std::nullopt) {
  const Json* v = Find(object, key);
  if (v == nullptr) {
    if (fallback) return *fallback;
    return Error(Join(path, key), "missing string field");
  }
  if (!v->is_string()) return Error(Join(path, key), "expected a string");
  return v->get<std::string>();
}

inline absl::StatusOr<std::optional<std::string>> OptionalString(const Json& object,
                                                                 std::string_view key,
                                                                 std::string_view path) {
  const Json* v = Find(object, key);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->is_string()) return Error(Join(path, key), "expected a string or null");
  return std::optional<std::string>(v->get<std::string>());
}

inline absl::StatusOr<bool> Bool(const Json& object, std::string_view key, std::string_view path,
                                 bool fallback) {
  const Json* v = Find(object, key);
  if (v == nullptr) return fallback;
  if (!v->is_boolean()) return Error(Join(path, key), "expected a boolean");
  return v->get<bool>();
}

inline absl::StatusOr<int64_t> Int(const Json& object, std::string_view key, std::string_view path,
                                   std::optional<int64_t> fallback) {
  const Json* v = Find(object, key);
  if (v == nullptr) {
    if (fallback) return *fallback;
    return Error(Join(path, key), "missing integer field");
  }
  if (!v->is_number_integer()) return Error(Join(path, key), "expected an integer");
  return v->get<int64_t>();
}

// Reads "pattern": {"String": s} or {"Regex": r} (Replace normalizer, Split pre-tokenizer).
inline absl::Status Pattern(const Json& json, std::string_view path, std::string* pattern,
                            bool* is_regex) {
  const Json* p = Find(json, "pattern");
  if (p != nullptr && p->is_object()) {
    if (const Json* s = Find(*p, "String"); s != nullptr && s->is_string()) {
      *pattern = s->get<std::string>();
      *is_regex = false;
      return absl::OkStatus();
    }
    if (const Json* r = Find(*p, "Regex"); r != nullptr && r->is_string()) {
      *pattern = r->get<std::string>();
      *is_regex = true;
      return absl::OkStatus();
    }
  }
  return Error(Join(path, "pattern"), "expected {\"String\": ...} or {\"Regex\": ...}");
}

}  // namespace zett::tokenizer::json_fields

#endif  // ZETT_CORE_TOKENIZER_JSON_FIELDS_H_
