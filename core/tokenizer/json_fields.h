// Typed, located field access for tokenizer.json: every error names the JSON path
// (e.g. "model.vocab") and what was expected, instead of an nlohmann exception.
#ifndef ZETT_CORE_TOKENIZER_JSON_FIELDS_H_
#define ZETT_CORE_TOKENIZER_JSON_FIELDS_H_

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/io/json_fields.h"

namespace zett::tokenizer::json_fields {

// tokenizer.json's view of the shared readers in core/io/json_fields.h: errors start with
// "tokenizer.json: <path>".
using Json = nlohmann::json;
using zett::json_fields::Find;
using zett::json_fields::Join;

inline constexpr std::string_view kDocument = "tokenizer.json";

inline absl::Status Error(std::string_view path, std::string_view message) {
  return zett::json_fields::Error(kDocument, path, message);
}

inline absl::StatusOr<std::string> String(const Json& object, std::string_view key,
                                          std::string_view path,
                                          std::optional<std::string> fallback = std::nullopt) {
  return zett::json_fields::String(object, key, {kDocument, path}, std::move(fallback));
}

inline absl::StatusOr<std::optional<std::string>> OptionalString(const Json& object,
                                                                 std::string_view key,
                                                                 std::string_view path) {
  return zett::json_fields::OptionalString(object, key, {kDocument, path});
}

inline absl::StatusOr<bool> Bool(const Json& object, std::string_view key, std::string_view path,
                                 bool fallback) {
  return zett::json_fields::Bool(object, key, {kDocument, path}, fallback);
}

inline absl::StatusOr<int64_t> Int(const Json& object, std::string_view key, std::string_view path,
                                   std::optional<int64_t> fallback) {
  return zett::json_fields::Int(object, key, {kDocument, path}, fallback);
}

// Real tokenizers nest Sequences at most ~3 deep; the bound keeps hostile documents from
// overflowing the stack through the recursive component parsers.
inline constexpr int kMaxSequenceDepth = 64;

inline absl::Status CheckDepth(int depth, std::string_view path) {
  if (depth <= kMaxSequenceDepth) return absl::OkStatus();
  return Error(path, "Sequences nested deeper than " + std::to_string(kMaxSequenceDepth));
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
