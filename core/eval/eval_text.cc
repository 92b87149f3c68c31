#include "core/eval/eval_text.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "core/io/document_reader.h"
#include "core/tokenizer/unicode_text.h"
#include "core/util/status_macros.h"

namespace zett {
namespace {

// Largest prefix of `text` of at most `max_bytes` bytes that ends on a character boundary.
size_t Utf8Prefix(const std::string& text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text.size();
  size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return end;
}

}  // namespace

absl::StatusOr<EvalText> LoadEvalText(const std::string& path, int64_t max_bytes) {
  EvalText text;
  text.path = path;
  text.language = std::filesystem::path(path).stem().string();
  // Documents up to max_bytes in all; the one that crosses it is cut at a character boundary.
  RETURN_IF_ERROR(ForEachDocument(path, [&](std::string document, int64_t) {
    bool full = false;
    if (max_bytes > 0 && text.bytes + static_cast<int64_t>(document.size()) >= max_bytes) {
      document.resize(Utf8Prefix(document, static_cast<size_t>(max_bytes - text.bytes)));
      full = true;
    }
    if (!document.empty()) {
      text.bytes += static_cast<int64_t>(document.size());
      text.documents.push_back(std::move(document));
    }
    return !full;
  }));
  if (text.documents.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": no text to evaluate"));
  }
  for (size_t i = 0; i < text.documents.size(); ++i) {
    const absl::Status valid =
        tokenizer::ValidateUtf8(text.documents[i], absl::StrCat(path, ": document ", i + 1));
    if (!valid.ok()) return absl::InvalidArgumentError(valid.message());
  }
  return text;
}

}  // namespace zett
