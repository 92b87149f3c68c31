#include "core/train/encoded_texts.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <thread>
#include <utility>

namespace zett {

absl::StatusOr<EncodedTexts> EncodedTexts::Encode(const TrainingTexts& texts, const Encoder& encode,
                                                  int64_t threads) {
  // One flat list of (language, document) so the threads share the work evenly.
  std::vector<std::pair<size_t, size_t>> work;
  std::vector<std::vector<std::vector<int32_t>>> out(texts.documents_by_language().size());
  for (size_t l = 0; l < out.size(); ++l) {
    out[l].resize(texts.documents_by_language()[l].size());
    for (size_t d = 0; d < out[l].size(); ++d) work.emplace_back(l, d);
  }
  std::vector<absl::Status> statuses(work.size());
  threads = std::max<int64_t>(threads, 1);
  auto encode_from = [&](int64_t first) {
    for (size_t i = first; i < work.size(); i += threads) {
      const auto [l, d] = work[i];
      absl::StatusOr<std::vector<int32_t>> ids = encode(texts.documents_by_language()[l][d]);
      if (ids.ok()) {
        out[l][d] = std::move(*ids);
      } else {
        statuses[i] = ids.status();
      }
    }
  };
  std::vector<std::thread> pool;
  for (int64_t t = 1; t < threads; ++t) pool.emplace_back(encode_from, t);
  encode_from(0);
  for (std::thread& thread : pool) thread.join();
  for (const absl::Status& status : statuses) {
    if (!status.ok()) return status;
  }
  return FromDocuments(std::move(out));
}

EncodedTexts EncodedTexts::FromDocuments(
    std::vector<std::vector<std::vector<int32_t>>> per_language) {
  EncodedTexts texts;
  for (auto& documents : per_language) {
    if (!documents.empty()) texts.documents_.push_back(std::move(documents));
  }
  return texts;
}

int64_t EncodedTexts::tokens() const {
  int64_t total = 0;
  for (const auto& documents : documents_) {
    for (const auto& ids : documents) total += static_cast<int64_t>(ids.size());
  }
  return total;
}

std::vector<std::vector<int32_t>> EncodedTexts::SampleRows(int64_t count, int64_t length,
                                                           int32_t bos, double alpha, bool pack,
                                                           uint64_t seed, int64_t step) const {
  std::vector<std::vector<int32_t>> rows(count);
  if (documents_.empty() || length < 1) return rows;
  std::vector<double> weights;
  for (const auto& documents : documents_) {
    weights.push_back(std::pow(static_cast<double>(documents.size()), alpha));
  }
  std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                    static_cast<uint32_t>(step), static_cast<uint32_t>(step >> 32), 0x656e63u};
  std::mt19937_64 rng(seq);
  std::discrete_distribution<size_t> pick_language(weights.begin(), weights.end());
  auto pick_document = [&]() -> const std::vector<int32_t>& {
    const auto& documents = documents_[pick_language(rng)];
    return documents[std::uniform_int_distribution<size_t>(0, documents.size() - 1)(rng)];
  };
  for (std::vector<int32_t>& row : rows) {
    row.reserve(length);
    // The first document at a random window; packed ones from their start, as a fresh [bos].
    bool first = true;
    do {
      const std::vector<int32_t>& ids = pick_document();
      const auto room = static_cast<size_t>(length) - row.size() - 1;
      size_t start = 0;
      if (first && ids.size() > room) {
        start = std::uniform_int_distribution<size_t>(0, ids.size() - room)(rng);
      }
      row.push_back(bos);
      const size_t take = std::min(room, ids.size() - start);
      row.insert(row.end(), ids.begin() + start, ids.begin() + start + take);
      first = false;
    } while (pack && static_cast<int64_t>(row.size()) < length);
  }
  return rows;
}

}  // namespace zett
