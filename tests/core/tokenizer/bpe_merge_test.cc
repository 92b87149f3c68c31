// The linked-list merge loop against the quadratic one it replaced (kept here as the
// reference), on random merge tables and words, and on long words with known results.
#include "core/tokenizer/bpe_merge.h"

#include <limits>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace zett::tokenizer {
namespace {

// The former BpeModel::MergeSymbols: rescan for the lowest rank (leftmost), erase, repeat.
void ReferenceMerges(const MergeMap& merges, std::vector<int32_t>* symbols) {
  std::vector<int32_t>& s = *symbols;
  if (s.size() < 2) return;
  constexpr int32_t kNone = std::numeric_limits<int32_t>::max();
  std::vector<int32_t> rank(s.size() - 1), merged(s.size() - 1);
  auto lookup = [&](size_t i) {
    auto it = merges.find(MergeKey(s[i], s[i + 1]));
    rank[i] = it == merges.end() ? kNone : it->second.first;
    if (it != merges.end()) merged[i] = it->second.second;
  };
  for (size_t i = 0; i + 1 < s.size(); ++i) lookup(i);
  while (!rank.empty()) {
    size_t best = 0;
    for (size_t i = 1; i < rank.size(); ++i) {
      if (rank[i] < rank[best]) best = i;
    }
    if (rank[best] == kNone) break;
    s[best] = merged[best];
    s.erase(s.begin() + best + 1);
    rank.erase(rank.begin() + best);
    merged.erase(merged.begin() + best);
    if (best < rank.size()) lookup(best);
    if (best > 0) lookup(best - 1);
  }
}

// Random merges over an alphabet of `letters` ids; results get new ids, and some merge
// results equal an operand (as a merge with a bare continuing_subword_prefix does).
MergeMap RandomMerges(std::mt19937* rng, int letters, int count) {
  MergeMap merges;
  int32_t next_id = letters;
  for (int rank = 0; rank < count; ++rank) {
    std::uniform_int_distribution<int32_t> pick(0, next_id - 1);
    const int32_t a = pick(*rng), b = pick(*rng);
    const int32_t merged = (*rng)() % 10 == 0 ? a : next_id++;
    merges.emplace(MergeKey(a, b), std::make_pair(rank, merged));
  }
  return merges;
}

TEST(BpeMergeTest, MatchesTheQuadraticReferenceOnRandomWords) {
  std::mt19937 rng(7);
  for (int table = 0; table < 40; ++table) {
    const int letters = 2 + table % 5;
    const MergeMap merges = RandomMerges(&rng, letters, 10 + table * 5);
    for (int trial = 0; trial < 25; ++trial) {
      const size_t length = trial < 20 ? rng() % 40 : 2000 + rng() % 2000;
      std::vector<int32_t> word(length);
      for (int32_t& id : word) id = static_cast<int32_t>(rng() % letters);
      std::vector<int32_t> expected = word, actual = word;
      ReferenceMerges(merges, &expected);
      ApplyMerges(merges, &actual);
      ASSERT_EQ(actual, expected) << "table " << table << " trial " << trial;
    }
  }
}

// "a" = 0 and merges a^(2^k) + a^(2^k) -> a^(2^(k+1)) (id k+1, rank k): leftmost-first
// merging splits a run of n letters into the powers of two of n's binary form, largest first.
TEST(BpeMergeTest, LongRunOfOneLetterSplitsIntoPowersOfTwo) {
  MergeMap merges;
  for (int32_t k = 0; k < 20; ++k) merges.emplace(MergeKey(k, k), std::make_pair(k, k + 1));
  for (const int32_t n : {131072, 131071, 100000}) {
    std::vector<int32_t> word(n, 0);
    ApplyMerges(merges, &word);
    std::vector<int32_t> expected;
    for (int32_t k = 20; k >= 0; --k) {
      if (n & (1 << k)) expected.push_back(k);
    }
    EXPECT_EQ(word, expected) << n;
  }
}

TEST(BpeMergeTest, LongRandomWordMatchesTheReference) {
  std::mt19937 rng(11);
  const MergeMap merges = RandomMerges(&rng, 4, 300);
  std::vector<int32_t> word(32768);
  for (int32_t& id : word) id = static_cast<int32_t>(rng() % 4);
  std::vector<int32_t> expected = word;
  ReferenceMerges(merges, &expected);
  ApplyMerges(merges, &word);
  EXPECT_EQ(word, expected);
}

}  // namespace
}  // namespace zett::tokenizer
