#include "core/io/json_fields.h"

namespace zett::json_fields {
namespace {

// Debian's Abseil has its own string_view, so StrCat does not take std::string_view.
template <typename... Parts>
std::string Cat(const Parts&... parts) {
  std::string out;
  (out.append(parts), ...);
  return out;
}

absl::Status Missing(std::string_view key, Where where, std::string_view what) {
  return Error(where.document, Join(where.path, key), Cat("missing ", what, " field"));
}

absl::Status WrongType(std::string_view key, Where where, std::string_view expected,
                       const Json& value) {
  // Long values (a whole vocabulary) are cut: the message names the field, not the data.
  std::string got = value.dump();
  if (got.size() > 80) got = Cat(got.substr(0, 77), "...");
  return Error(where.document, Join(where.path, key), Cat("expected ", expected, ", got ", got));
}

}  // namespace

std::string Join(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : Cat(path, ".", key);
}

absl::Status Error(std::string_view document, std::string_view path, std::string_view message) {
  return absl::InvalidArgumentError(Cat(document, ": ", path, ": ", message));
}

const Json* Find(const Json& object, std::string_view key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(std::string(key));
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

absl::StatusOr<std::string> String(const Json& object, std::string_view key, Where where,
                                   std::optional<std::string> fallback) {
  const Json* v = Find(object, key);
  if (v == nullptr) {
    if (fallback) return *fallback;
    return Missing(key, where, "string");
  }
  if (!v->is_string()) return WrongType(key, where, "a string", *v);
  return v->get<std::string>();
}

absl::StatusOr<std::optional<std::string>> OptionalString(const Json& object, std::string_view key,
                                                          Where where) {
  const Json* v = Find(object, key);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->is_string()) return WrongType(key, where, "a string or null", *v);
  return std::optional<std::string>(v->get<std::string>());
}

absl::StatusOr<bool> Bool(const Json& object, std::string_view key, Where where,
                          std::optional<bool> fallback) {
  const Json* v = Find(object, key);
  if (v == nullptr) {
    if (fallback) return *fallback;
    return Missing(key, where, "boolean");
  }
  if (!v->is_boolean()) return WrongType(key, where, "a boolean", *v);
  return v->get<bool>();
}

absl::StatusOr<int64_t> Int(const Json& object, std::string_view key, Where where,
                            std::optional<int64_t> fallback) {
  const Json* v = Find(object, key);
  if (v == nullptr) {
    if (fallback) return *fallback;
    return Missing(key, where, "integer");
  }
  if (!v->is_number_integer()) return WrongType(key, where, "an integer", *v);
  return v->get<int64_t>();
}

absl::StatusOr<std::optional<int64_t>> OptionalInt(const Json& object, std::string_view key,
                                                   Where where) {
  const Json* v = Find(object, key);
  if (v == nullptr) return std::optional<int64_t>();
  if (!v->is_number_integer()) return WrongType(key, where, "an integer or null", *v);
  return std::optional<int64_t>(v->get<int64_t>());
}

absl::StatusOr<double> Double(const Json& object, std::string_view key, Where where,
                              std::optional<double> fallback) {
  const Json* v = Find(object, key);
  if (v == nullptr) {
    if (fallback) return *fallback;
    return Missing(key, where, "number");
  }
  if (!v->is_number()) return WrongType(key, where, "a number", *v);
  return v->get<double>();
}

absl::StatusOr<std::vector<std::string>> StringList(const Json& object, std::string_view key,
                                                    Where where) {
  std::vector<std::string> out;
  const Json* v = Find(object, key);
  if (v == nullptr) return out;
  if (!v->is_array()) return WrongType(key, where, "a list of strings", *v);
  for (const auto& item : *v) {
    if (!item.is_string()) return WrongType(key, where, "a list of strings", *v);
    out.push_back(item.get<std::string>());
  }
  return out;
}

}  // namespace zett::json_fields
