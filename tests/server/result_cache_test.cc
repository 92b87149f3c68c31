// The result cache: LRU order, the byte bound, oversized entries, and cache keys that change
// with every field that changes the streamed bytes.
#include "server/result_cache.h"

#include <gtest/gtest.h>

#include <set>

namespace zett::server {
namespace {

std::shared_ptr<const CachedTransfer> Entry(uint64_t bytes) {
  auto entry = std::make_shared<CachedTransfer>();
  entry->bytes = bytes;
  return entry;
}

TEST(ResultCacheTest, EvictsLeastRecentlyUsedWithinTheByteBound) {
  ResultCache cache(100);
  cache.Insert("a", Entry(40));
  cache.Insert("b", Entry(40));
  ASSERT_NE(cache.Lookup("a"), nullptr);  // a is now the most recent
  cache.Insert("c", Entry(40));           // evicts b
  EXPECT_NE(cache.Lookup("a"), nullptr);
  EXPECT_EQ(cache.Lookup("b"), nullptr);
  EXPECT_NE(cache.Lookup("c"), nullptr);
  EXPECT_EQ(cache.size_bytes(), 80u);
  cache.Insert("huge", Entry(101));  // larger than the whole cache: not stored, nothing evicted
  EXPECT_EQ(cache.Lookup("huge"), nullptr);
  EXPECT_EQ(cache.entries(), 2u);
  cache.Insert("a", Entry(10));  // replacing updates the accounting
  EXPECT_EQ(cache.size_bytes(), 50u);
}

TEST(ResultCacheTest, KeyChangesWithEveryStreamDecidingField) {
  v1::TransferRequest request;
  request.mutable_token_list()->set_kind(v1::TOKEN_KIND_BYTE_LEVEL);
  request.mutable_token_list()->add_tokens("a");
  v1::TransferOptions options;
  options.set_dtype(v1::DTYPE_FP32);
  options.add_matrices(v1::MATRIX_INPUT_EMBEDDINGS);
  options.set_rows_per_chunk(10);

  std::set<std::string> keys;
  keys.insert(TransferCacheKey("m", 1, request, options));
  EXPECT_EQ(TransferCacheKey("m", 1, request, options), *keys.begin());  // deterministic
  keys.insert(TransferCacheKey("n", 1, request, options));
  keys.insert(TransferCacheKey("m", 2, request, options));
  v1::TransferRequest other = request;
  other.mutable_token_list()->set_tokens(0, "b");
  keys.insert(TransferCacheKey("m", 1, other, options));
  other = request;
  other.mutable_token_list()->add_special_tokens("a");
  keys.insert(TransferCacheKey("m", 1, other, options));
  other = request;
  other.set_tokenizer_json("a");  // same bytes, other kind of tokenizer
  keys.insert(TransferCacheKey("m", 1, other, options));
  v1::TransferOptions changed = options;
  changed.set_dtype(v1::DTYPE_BF16);
  keys.insert(TransferCacheKey("m", 1, request, changed));
  changed = options;
  changed.add_matrices(v1::MATRIX_OUTPUT_BIAS);
  keys.insert(TransferCacheKey("m", 1, request, changed));
  changed = options;
  changed.set_rows_per_chunk(11);
  keys.insert(TransferCacheKey("m", 1, request, changed));
  changed = options;
  changed.set_language("de");
  keys.insert(TransferCacheKey("m", 1, request, changed));
  changed = options;
  changed.set_special_tokens(v1::SPECIAL_TOKEN_POLICY_PREDICT);
  keys.insert(TransferCacheKey("m", 1, request, changed));
  EXPECT_EQ(keys.size(), 11u);
}

}  // namespace
}  // namespace zett::server
