// LRU cache of complete Transfer streams, bounded in bytes, keyed by a content hash of
// (model, version, tokenizer, resolved options): a repeated request is answered with the very
// same bytes without touching the predict queue.
#ifndef ZETT_SERVER_RESULT_CACHE_H_
#define ZETT_SERVER_RESULT_CACHE_H_

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "proto/zett/v1/zett.pb.h"

namespace zett::server {

// Header, vocabulary blocks, row blocks and trailer of one finished stream.
struct CachedTransfer {
  std::vector<v1::TransferResponse> messages;
  uint64_t bytes = 0;  // accounted size: serialized size of all messages
};

class ResultCache {
 public:
  explicit ResultCache(uint64_t capacity_bytes);

  // Marks the entry most recently used; nullptr on a miss.
  std::shared_ptr<const CachedTransfer> Lookup(const std::string& key);

  // Evicts least recently used entries until it fits; an entry larger than the whole capacity
  // is not stored. Replaces an entry with the same key.
  void Insert(const std::string& key, std::shared_ptr<const CachedTransfer> value);

  uint64_t capacity_bytes() const { return capacity_bytes_; }
  uint64_t size_bytes() const;
  size_t entries() const;

 private:
  using Entry = std::pair<std::string, std::shared_ptr<const CachedTransfer>>;
  const uint64_t capacity_bytes_;
  mutable std::mutex mutex_;
  std::list<Entry> lru_;  // front: most recent
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  uint64_t size_bytes_ = 0;
};

// 32-byte SHA-256 over a length-prefixed encoding of the fields that decide the stream's bytes.
// `options` must be resolved (dtype, matrices and rows per block as the server will use them).
std::string TransferCacheKey(const std::string& model, int64_t version,
                             const v1::TransferRequest& request,
                             const v1::TransferOptions& resolved_options);

}  // namespace zett::server

#endif  // ZETT_SERVER_RESULT_CACHE_H_
