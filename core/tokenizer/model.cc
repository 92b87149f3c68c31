#include "core/tokenizer/model.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace zett::tokenizer {

absl::StatusOr<Vocab> Vocab::Create(std::vector<std::pair<std::string, int32_t>> entries,
                                    std::string_view where, bool last_token_wins) {
  Vocab vocab;
  int32_t max_id = -1;
  for (const auto& [token, id] : entries) {
    if (id < 0) {
      return absl::InvalidArgumentError(Cat(where, ": token '", token, "' has negative id ", id));
    }
    max_id = std::max(max_id, id);
  }
  if (max_id >= static_cast<int64_t>(entries.size()) * 2 + 1024) {
    return absl::InvalidArgumentError(
        Cat(where, ": id ", max_id, " out of range for ", entries.size(), " tokens"));
  }
  vocab.id_to_token_.resize(max_id + 1);
  std::vector<bool> used(max_id + 1, false);
  vocab.token_to_id_.reserve(entries.size());
  for (auto& [token, id] : entries) {
    if (used[id]) {
      return absl::InvalidArgumentError(
          Cat(where, ": duplicate id ", id, " ('", vocab.id_to_token_[id], "' and '", token, "')"));
    }
    used[id] = true;
    if (last_token_wins) {
      vocab.token_to_id_[token] = id;
    } else if (!vocab.token_to_id_.emplace(token, id).second) {
      return absl::InvalidArgumentError(Cat(where, ": duplicate token '", token, "'"));
    }
    vocab.id_to_token_[id] = std::move(token);
  }
  return vocab;
}

bool PieceCache::Lookup(std::string_view piece, std::vector<int32_t>* ids) const {
  if (capacity_ == 0) return false;
  absl::MutexLock lock(&mutex_);
  auto it = map_.find(AsAbsl(piece));
  if (it == map_.end()) return false;
  ids->insert(ids->end(), it->second.begin(), it->second.end());
  return true;
}

void PieceCache::Insert(std::string_view piece, const std::vector<int32_t>& ids,
                        size_t first) const {
  if (capacity_ == 0 || piece.size() > 256) return;  // long pieces are rare; keep the cache small
  absl::MutexLock lock(&mutex_);
  if (map_.size() >= capacity_) map_.clear();
  map_.emplace(std::string(piece), std::vector<int32_t>(ids.begin() + first, ids.end()));
}

std::string ByteFallbackToken(uint8_t byte) { return absl::StrFormat("<0x%02X>", byte); }

}  // namespace zett::tokenizer
