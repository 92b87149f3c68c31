#include "core/tokenizer/unigram_model.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "core/tokenizer/unicode_text.h"

namespace zett::tokenizer {
namespace {
constexpr double kUnkPenalty = 10.0;
}  // namespace

absl::StatusOr<std::unique_ptr<UnigramModel>> UnigramModel::Create(
    std::vector<std::pair<std::string, double>> pieces, std::optional<int32_t> unk_id,
    bool byte_fallback, const std::vector<bool>& unmatchable) {
  auto model = std::unique_ptr<UnigramModel>(new UnigramModel());
  if (unk_id && (*unk_id < 0 || *unk_id >= static_cast<int32_t>(pieces.size()))) {
    return absl::InvalidArgumentError(
        Cat("Unigram: unk_id ", *unk_id, " out of range for ", pieces.size(), " pieces"));
  }
  model->unk_id_ = unk_id;
  model->byte_fallback_ = byte_fallback;
  double min_score = std::numeric_limits<double>::max();
  std::vector<std::pair<std::string, int32_t>> entries;
  entries.reserve(pieces.size());
  model->scores_.reserve(pieces.size());
  model->node_token_.push_back(-1);  // root
  model->trie_.reserve(pieces.size() * 4);
  for (size_t i = 0; i < pieces.size(); ++i) {
    const auto& [piece, score] = pieces[i];
    if (piece.empty()) return absl::InvalidArgumentError(Cat("Unigram: piece ", i, " is empty"));
    model->scores_.push_back(score);
    entries.emplace_back(piece, static_cast<int32_t>(i));
    if (i < unmatchable.size() && unmatchable[i]) continue;
    min_score = std::min(min_score, score);
    int32_t node = 0;
    for (unsigned char b : piece) {
      const uint64_t key = (static_cast<uint64_t>(node) << 8) | b;
      auto [it, inserted] =
          model->trie_.emplace(key, static_cast<int32_t>(model->node_token_.size()));
      if (inserted) model->node_token_.push_back(-1);
      node = it->second;
    }
    model->node_token_[node] = static_cast<int32_t>(i);
  }
  auto vocab = Vocab::Create(std::move(entries), "Unigram vocab", /*last_token_wins=*/true);
  if (!vocab.ok()) return vocab.status();
  model->vocab_ = std::move(vocab).value();
  model->unk_score_ = (pieces.empty() ? 0.0 : min_score) - kUnkPenalty;
  model->byte_fallback_ids_.assign(256, -1);
  for (int b = 0; b < 256; ++b) {
    if (auto id = model->vocab_.Find(ByteFallbackToken(static_cast<uint8_t>(b)))) {
      model->byte_fallback_ids_[b] = *id;
    }
  }
  return model;
}

absl::Status UnigramModel::Tokenize(std::string_view text, std::vector<int32_t>* ids) const {
  if (text.empty()) return absl::OkStatus();
  if (cache_.Lookup(text, ids)) return absl::OkStatus();
  const size_t n = text.size();
  struct Best {
    double score;
    int32_t start;  // -1: not reached
    int32_t id;     // -1: unknown span
  };
  std::vector<Best> best(n + 1, {0.0, -1, -1});
  best[0].start = 0;
  for (size_t start = 0; start < n;) {
    const int char_len = Utf8Length(static_cast<unsigned char>(text[start]));
    const double base = best[start].score;
    bool has_single = false;
    int32_t node = 0;
    for (size_t pos = start; pos < n; ++pos) {
      node = Child(node, static_cast<unsigned char>(text[pos]));
      if (node < 0) break;
      const int32_t id = node_token_[node];
      if (id < 0) continue;
      const size_t end = pos + 1;
      const double score = base + scores_[id];
      if (best[end].start < 0 || score > best[end].score)
        best[end] = {score, static_cast<int32_t>(start), id};
      if (end - start == static_cast<size_t>(char_len)) has_single = true;
    }
    if (!has_single) {
      const size_t end = std::min(n, start + char_len);
      const double score = base + unk_score_;
      if (best[end].start < 0 || score > best[end].score)
        best[end] = {score, static_cast<int32_t>(start), -1};
    }
    start += char_len;
  }
  // Backtrack, then emit left to right with unknown spans fused.
  std::vector<std::pair<size_t, int32_t>> path;  // (start, id), reversed
  for (size_t end = n; end > 0;) {
    const Best& b = best[end];
    path.emplace_back(b.start, b.id);
    end = b.start;
  }
  std::reverse(path.begin(), path.end());
  const size_t first = ids->size();
  for (size_t i = 0; i < path.size();) {
    if (path[i].second >= 0) {
      ids->push_back(path[i].second);
      ++i;
      continue;
    }
    size_t j = i;
    while (j < path.size() && path[j].second < 0) ++j;
    const size_t span_end = j < path.size() ? path[j].first : n;
    const std::string_view unknown = text.substr(path[i].first, span_end - path[i].first);
    bool done = false;
    if (byte_fallback_) {
      bool all = true;
      for (char b : unknown) all = all && byte_fallback_ids_[static_cast<uint8_t>(b)] >= 0;
      if (all) {
        for (char b : unknown) ids->push_back(byte_fallback_ids_[static_cast<uint8_t>(b)]);
        done = true;
      }
    }
    if (!done) {
      if (!unk_id_) {
        ids->resize(first);
        return absl::InvalidArgumentError(
            Cat("Unigram: text '", unknown, "' has no piece and the model no unk_id"));
      }
      ids->push_back(*unk_id_);
    }
    i = j;
  }
  cache_.Insert(text, *ids, first);
  return absl::OkStatus();
}

}  // namespace zett::tokenizer
