// Model-level behaviour: BPE merges and fallbacks, Unigram Viterbi against an exhaustive
// oracle, WordPiece greedy matching.
#include <cmath>
#include <functional>
#include <limits>

#include "core/tokenizer/bpe_model.h"
#include "core/tokenizer/byte_level.h"
#include "core/tokenizer/unigram_model.h"
#include "core/tokenizer/wordpiece_model.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace zett::tokenizer {
namespace {

using ::testing::ElementsAre;

Vocab MakeVocab(const std::vector<std::string>& tokens) {
  std::vector<std::pair<std::string, int32_t>> entries;
  for (size_t i = 0; i < tokens.size(); ++i) entries.emplace_back(tokens[i], i);
  return Vocab::Create(entries, "test").value();
}

std::vector<int32_t> Ids(const Model& model, std::string_view text) {
  std::vector<int32_t> ids;
  EXPECT_TRUE(model.Tokenize(text, &ids).ok());
  return ids;
}

TEST(ByteLevelTest, TableIsABijectionWithGpt2Anchors) {
  EXPECT_EQ(ByteToChar(' '), "\u0120");   // Ġ
  EXPECT_EQ(ByteToChar('\n'), "\u010A");  // Ċ
  EXPECT_EQ(ByteToChar('a'), "a");
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  const std::string chars = BytesToByteChars(all);
  EXPECT_EQ(ByteCharsToBytes(chars), all);
  EXPECT_EQ(ByteCharsToBytes("\u2581"), std::nullopt);
}

TEST(BpeModelTest, AppliesLowestRankFirst) {
  // Ranks: (b,c) before (a,b): "abc" -> a + bc, not ab + c.
  auto model = BpeModel::Create(MakeVocab({"a", "b", "c", "bc", "ab", "abc"}),
                                {{"b", "c"}, {"a", "b"}, {"a", "bc"}}, {})
                   .value();
  EXPECT_THAT(Ids(*model, "abc"), ElementsAre(5));
  EXPECT_THAT(Ids(*model, "ab"), ElementsAre(4));
  EXPECT_THAT(Ids(*model, "cab"), ElementsAre(2, 4));
}

TEST(BpeModelTest, ByteFallbackThenFusedUnknown) {
  BpeOptions options;
  options.unk_token = "<unk>";
  options.byte_fallback = true;
  options.fuse_unk = true;
  std::vector<std::string> tokens = {"<unk>", "a"};
  // Byte tokens only for the two UTF-8 bytes of "é" (C3 A9).
  tokens.push_back("<0xC3>");
  tokens.push_back("<0xA9>");
  auto model = BpeModel::Create(MakeVocab(tokens), {}, options).value();
  EXPECT_THAT(Ids(*model, "aé"), ElementsAre(1, 2, 3));
  // "ü" (C3 BC) has no <0xBC>: unknown; two unknown chars fuse into one <unk>.
  EXPECT_THAT(Ids(*model, "üüa"), ElementsAre(0, 1));
}

TEST(BpeModelTest, IgnoreMergesReturnsWholeTokens) {
  BpeOptions options;
  options.ignore_merges = true;
  // "abc" is in the vocabulary but unreachable by merges.
  auto model = BpeModel::Create(MakeVocab({"a", "b", "c", "abc"}), {}, options).value();
  EXPECT_THAT(Ids(*model, "abc"), ElementsAre(3));
  EXPECT_THAT(Ids(*model, "ab"), ElementsAre(0, 1));
}

TEST(BpeModelTest, MissingMergePartIsAnError) {
  auto model = BpeModel::Create(MakeVocab({"a", "b", "ab"}), {{"a", "x"}}, {});
  ASSERT_FALSE(model.ok());
  EXPECT_THAT(std::string(model.status().message()), ::testing::HasSubstr("'x'"));
}

// Best segmentation by exhaustive search (the oracle for Viterbi).
double BestScore(const std::vector<std::pair<std::string, double>>& pieces, std::string_view text,
                 std::vector<int32_t>* best_ids) {
  if (text.empty()) return 0.0;
  double best = -std::numeric_limits<double>::infinity();
  for (size_t i = 0; i < pieces.size(); ++i) {
    const std::string& p = pieces[i].first;
    if (text.substr(0, p.size()) != p) continue;
    std::vector<int32_t> rest;
    const double score = pieces[i].second + BestScore(pieces, text.substr(p.size()), &rest);
    if (score > best) {
      best = score;
      *best_ids = {static_cast<int32_t>(i)};
      best_ids->insert(best_ids->end(), rest.begin(), rest.end());
    }
  }
  return best;
}

TEST(UnigramModelTest, ViterbiMatchesExhaustiveSearch) {
  const std::vector<std::pair<std::string, double>> pieces = {
      {"<unk>", 0.0}, {"a", -2.0},   {"b", -2.5},  {"c", -3.0},  {"ab", -3.0},
      {"bc", -4.1},   {"abc", -7.5}, {"ca", -2.0}, {"cab", -6.0}};
  auto model = UnigramModel::Create(pieces, 0, false).value();
  for (std::string text : {"abc", "cabc", "abcabc", "bcab", "ccab", "aaabbbccc"}) {
    std::vector<int32_t> expected;
    // The oracle cannot use <unk>: skip it by searching pieces 1..n.
    std::vector<std::pair<std::string, double>> real(pieces.begin(), pieces.end());
    real[0].first = "\x01";
    BestScore(real, text, &expected);
    EXPECT_EQ(Ids(*model, text), expected) << text;
  }
}

TEST(UnigramModelTest, UnknownCharsAreFusedAndByteFallbackUsed) {
  auto model = UnigramModel::Create({{"<unk>", 0.0}, {"a", -1.0}}, 0, false).value();
  EXPECT_THAT(Ids(*model, "axya"), ElementsAre(1, 0, 1));
  auto with_bytes =
      UnigramModel::Create({{"<unk>", 0.0}, {"a", -1.0}, {"<0x78>", -5.0}}, 0, true).value();
  // "x" -> <0x78>; "y" has no byte piece -> <unk>.
  EXPECT_THAT(Ids(*with_bytes, "ax"), ElementsAre(1, 2));
  EXPECT_THAT(Ids(*with_bytes, "ay"), ElementsAre(1, 0));
}

TEST(WordPieceModelTest, GreedyLongestMatchWithContinuationPrefix) {
  auto model = WordPieceModel::Create(MakeVocab({"[UNK]", "un", "##aff", "##able", "##a", "u"}),
                                      "[UNK]", "##", 100)
                   .value();
  EXPECT_THAT(Ids(*model, "unaffable"), ElementsAre(1, 2, 3));
  EXPECT_THAT(Ids(*model, "unx"), ElementsAre(0));  // unmatched rest: the whole word is [UNK]
}

}  // namespace
}  // namespace zett::tokenizer
