#include "core/eval/eval_text.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "core/tokenizer/unicode_text.h"

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
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open text file ", path));
  EvalText text;
  text.path = path;
  text.language = std::filesystem::path(path).stem().string();
  std::string document, line;
  bool full = false;
  auto flush = [&] {
    if (document.empty() || full) return;
    if (max_bytes > 0 && text.bytes + static_cast<int64_t>(document.size()) >= max_bytes) {
      document.resize(Utf8Prefix(document, static_cast<size_t>(max_bytes - text.bytes)));
      full = true;
    }
    if (!document.empty()) {
      text.bytes += static_cast<int64_t>(document.size());
      text.documents.push_back(std::move(document));
    }
    document.clear();
  };
  while (!full && std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
      flush();
      continue;
    }
    if (!document.empty()) document += '\n';
    document += line;
  }
  flush();
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
