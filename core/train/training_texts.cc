#include "core/train/training_texts.h"

#include <cmath>
#include <fstream>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/io/document_reader.h"
#include "core/train/text_corpus.h"
#include "core/util/status_macros.h"

namespace zett {
namespace {

// Longest prefix of `text` of at most `max_bytes` bytes that ends on a UTF-8 char boundary.
std::string CutUtf8(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end));
}

// Start offset of a span: the first char boundary at or after `offset`.
size_t CharBoundary(std::string_view text, size_t offset) {
  while (offset < text.size() && (static_cast<unsigned char>(text[offset]) & 0xC0) == 0x80) {
    ++offset;
  }
  return offset;
}

}  // namespace

absl::StatusOr<TrainingTexts> TrainingTexts::Load(const std::string& spec) {
  ASSIGN_OR_RETURN(auto paths, ExpandFileList(spec));
  std::vector<std::vector<std::string>> docs;
  std::vector<std::string> names;
  for (const auto& path : paths) {
    ASSIGN_OR_RETURN(std::vector<std::string> d, ReadDocuments(path));
    if (d.empty()) continue;
    docs.push_back(std::move(d));
    const size_t slash = path.find_last_of('/');
    std::string name = path.substr(slash == std::string::npos ? 0 : slash + 1);
    names.push_back(name.substr(0, name.find('.')));
  }
  if (docs.empty()) return absl::NotFoundError(absl::StrCat("no documents in '", spec, "'"));
  return FromDocuments(std::move(docs), std::move(names));
}

TrainingTexts TrainingTexts::FromDocuments(std::vector<std::vector<std::string>> per_language,
                                           std::vector<std::string> names) {
  TrainingTexts t;
  t.documents_ = std::move(per_language);
  t.names_ = std::move(names);
  return t;
}

int64_t TrainingTexts::documents() const {
  int64_t n = 0;
  for (const auto& d : documents_) n += static_cast<int64_t>(d.size());
  return n;
}

std::vector<std::string> TrainingTexts::Sample(int64_t count, int64_t max_bytes, double alpha,
                                               uint64_t seed, int64_t step) const {
  std::vector<double> weights;
  for (const auto& d : documents_)
    weights.push_back(std::pow(static_cast<double>(d.size()), alpha));
  std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                    static_cast<uint32_t>(step), static_cast<uint32_t>(step >> 32), 0x7a657474u};
  std::mt19937_64 rng(seq);
  std::discrete_distribution<size_t> pick_language(weights.begin(), weights.end());
  std::vector<std::string> out;
  out.reserve(count);
  for (int64_t i = 0; i < count; ++i) {
    const auto& docs = documents_[pick_language(rng)];
    const std::string& doc = docs[std::uniform_int_distribution<size_t>(0, docs.size() - 1)(rng)];
    size_t start = 0;
    if (doc.size() > static_cast<size_t>(max_bytes)) {
      start = CharBoundary(doc, std::uniform_int_distribution<size_t>(
                                    0, doc.size() - static_cast<size_t>(max_bytes))(rng));
    }
    out.push_back(CutUtf8(std::string_view(doc).substr(start), max_bytes));
  }
  return out;
}

std::vector<std::string> TrainingTexts::Leading(int64_t per_language, int64_t max_bytes) const {
  std::vector<std::string> out;
  for (const auto& docs : documents_) {
    for (int64_t i = 0; i < per_language && i < static_cast<int64_t>(docs.size()); ++i) {
      out.push_back(CutUtf8(docs[i], max_bytes));
    }
  }
  return out;
}

}  // namespace zett
