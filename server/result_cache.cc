#include "server/result_cache.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/io/sha256.h"

namespace zett::server {
namespace {

void AddField(io::Sha256& sha, absl::string_view value) {
  const uint64_t size = value.size();
  sha.Update(&size, sizeof(size));
  sha.Update(value);
}

}  // namespace

ResultCache::ResultCache(uint64_t capacity_bytes) : capacity_bytes_(capacity_bytes) {}

std::shared_ptr<const CachedTransfer> ResultCache::Lookup(const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

void ResultCache::Insert(const std::string& key, std::shared_ptr<const CachedTransfer> value) {
  if (value == nullptr || value->bytes > capacity_bytes_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto existing = index_.find(key);
  if (existing != index_.end()) {
    size_bytes_ -= existing->second->second->bytes;
    lru_.erase(existing->second);
    index_.erase(existing);
  }
  while (!lru_.empty() && size_bytes_ + value->bytes > capacity_bytes_) {
    size_bytes_ -= lru_.back().second->bytes;
    index_.erase(lru_.back().first);
    lru_.pop_back();
  }
  size_bytes_ += value->bytes;
  lru_.emplace_front(key, std::move(value));
  index_[key] = lru_.begin();
}

uint64_t ResultCache::size_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return size_bytes_;
}

size_t ResultCache::entries() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return lru_.size();
}

std::string TransferCacheKey(const std::string& model, int64_t version,
                             const v1::TransferRequest& request,
                             const v1::TransferOptions& resolved_options) {
  io::Sha256 sha;
  AddField(sha, "zett-transfer-cache/1");
  AddField(sha, model);
  AddField(sha, absl::StrCat(version));
  AddField(sha, absl::StrCat(static_cast<int>(request.tokenizer_case())));
  switch (request.tokenizer_case()) {
    case v1::TransferRequest::kTokenizerJson:
      AddField(sha, request.tokenizer_json());
      AddField(sha, request.tokenizer_config_json());
      AddField(sha, request.special_tokens_map_json());
      break;
    case v1::TransferRequest::kSentencepieceModel:
      AddField(sha, request.sentencepiece_model());
      break;
    case v1::TransferRequest::kTokenList: {
      const v1::TokenList& list = request.token_list();
      AddField(sha, absl::StrCat(static_cast<int>(list.kind()), ":", list.tokens_size(), ":",
                                 list.special_tokens_size()));
      for (const std::string& token : list.tokens()) AddField(sha, token);
      for (const std::string& token : list.special_tokens()) AddField(sha, token);
      break;
    }
    default:
      break;
  }
  AddField(sha, absl::StrCat(static_cast<int>(resolved_options.dtype())));
  for (int matrix : resolved_options.matrices()) AddField(sha, absl::StrCat(matrix));
  AddField(sha, absl::StrCat("special:", static_cast<int>(resolved_options.special_tokens())));
  AddField(sha, absl::StrCat("language:", resolved_options.language()));
  AddField(sha, absl::StrCat("compute:", static_cast<int>(resolved_options.compute_dtype())));
  AddField(sha, absl::StrCat("rows:", resolved_options.rows_per_chunk()));
  return sha.Digest();
}

}  // namespace zett::server
