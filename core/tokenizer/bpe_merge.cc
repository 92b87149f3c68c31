#include "core/tokenizer/bpe_merge.h"

#include <queue>

namespace zett::tokenizer {
namespace {

// A symbol of the word; prev/next index neighbours, -1 at the ends.
struct Symbol {
  int32_t id, prev, next;
};

// A pair that could merge; the ids record what it was queued for, so a pair changed since
// (a side merged with another neighbour) is recognised as stale when popped.
struct Candidate {
  int32_t rank, left, right, left_id, right_id, merged;
};

// Lowest rank first, then leftmost: the order of the quadratic reference.
struct Later {
  bool operator()(const Candidate& a, const Candidate& b) const {
    return a.rank != b.rank ? a.rank > b.rank : a.left > b.left;
  }
};

using Queue = std::priority_queue<Candidate, std::vector<Candidate>, Later>;

void Push(const MergeMap& merges, const std::vector<Symbol>& word, int32_t left, int32_t right,
          Queue* queue) {
  const int32_t left_id = word[left].id, right_id = word[right].id;
  auto it = merges.find(MergeKey(left_id, right_id));
  if (it == merges.end()) return;
  queue->push({it->second.first, left, right, left_id, right_id, it->second.second});
}

}  // namespace

void ApplyMerges(const MergeMap& merges, std::vector<int32_t>* symbols) {
  std::vector<int32_t>& s = *symbols;
  if (s.size() < 2) return;
  const int32_t n = static_cast<int32_t>(s.size());
  std::vector<Symbol> word(n);
  for (int32_t i = 0; i < n; ++i) word[i] = {s[i], i - 1, i + 1 < n ? i + 1 : -1};
  Queue queue;
  for (int32_t i = 0; i + 1 < n; ++i) Push(merges, word, i, i + 1, &queue);
  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& left = word[c.left];
    Symbol& right = word[c.right];
    if (left.next != c.right || left.id != c.left_id || right.id != c.right_id) continue;
    left.id = c.merged;  // the right symbol is unlinked; its index is never reused
    left.next = right.next;
    if (right.next >= 0) word[right.next].prev = c.left;
    right.next = -1;
    if (left.prev >= 0) Push(merges, word, left.prev, c.left, &queue);
    if (left.next >= 0) Push(merges, word, c.left, left.next, &queue);
  }
  s.clear();
  for (int32_t i = 0; i >= 0; i = word[i].next) s.push_back(word[i].id);  // 0 is never merged away
}

}  // namespace zett::tokenizer
