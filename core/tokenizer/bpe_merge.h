// The merge step of byte-pair encoding: apply the lowest-ranked merge among adjacent symbols
// (leftmost on ties) until none applies, as Hugging Face tokenizers' Word::merge_all does.
// Symbols form a linked list and candidate pairs a priority queue, so a word of n symbols
// costs O(n log n), not the O(n^2) of rescanning and erasing from a vector per merge.
#ifndef ZETT_CORE_TOKENIZER_BPE_MERGE_H_
#define ZETT_CORE_TOKENIZER_BPE_MERGE_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace zett::tokenizer {

// MergeKey(left id, right id) -> (rank, merged id).
using MergeMap = absl::flat_hash_map<uint64_t, std::pair<int32_t, int32_t>>;

inline uint64_t MergeKey(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(left) << 32) | static_cast<uint32_t>(right);
}

// Replaces `symbols` (token ids) by their merged ids.
void ApplyMerges(const MergeMap& merges, std::vector<int32_t>* symbols);

}  // namespace zett::tokenizer

#endif  // ZETT_CORE_TOKENIZER_BPE_MERGE_H_
