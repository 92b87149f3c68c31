#include "core/io/document_reader.h"

#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"

namespace zett {

absl::Status ForEachDocument(const std::string& path, const DocumentVisitor& visit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open text file ", path));
  std::string document, line;
  int64_t lines = 0;
  // Hands the document gathered so far to `visit`; false once the visitor has had enough.
  auto flush = [&]() -> absl::StatusOr<bool> {
    if (document.empty()) return true;
    absl::StatusOr<bool> more = visit(std::move(document), lines);
    document.clear();
    return more;
  };
  while (std::getline(in, line)) {
    ++lines;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
      absl::StatusOr<bool> more = flush();
      if (!more.ok()) return more.status();
      if (!*more) return absl::OkStatus();
      continue;
    }
    if (!document.empty()) document += '\n';
    document += line;
  }
  return flush().status();
}

absl::StatusOr<std::vector<std::string>> ReadDocuments(const std::string& path) {
  std::vector<std::string> documents;
  absl::Status status = ForEachDocument(path, [&](std::string document, int64_t) {
    documents.push_back(std::move(document));
    return true;
  });
  if (!status.ok()) return status;
  return documents;
}

}  // namespace zett
