// Normalizers, pre-tokenizers, added tokens and the tokenizer.json loader's errors.
#include <string>
#include <vector>

#include "core/tokenizer/normalizer.h"
#include "core/tokenizer/pre_tokenizer.h"
#include "core/tokenizer/tokenizer_json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/core/tokenizer/tokenizer_test_util.h"

namespace zett::tokenizer {
namespace {

using testing::BpeModelJson;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::LoadOrDie;

std::string Normalized(const nlohmann::json& json, std::string text) {
  auto normalizer = NormalizerFromJson(json, "normalizer");
  EXPECT_TRUE(normalizer.ok()) << normalizer.status();
  EXPECT_TRUE((*normalizer)->Normalize(&text).ok());
  return text;
}

std::vector<std::string> Pieces(const nlohmann::json& json, const std::string& text) {
  auto pre = PreTokenizerFromJson(json, "pre_tokenizer");
  EXPECT_TRUE(pre.ok()) << pre.status();
  std::vector<Piece> pieces = {{text, true}};
  (*pre)->PreTokenize(&pieces);
  std::vector<std::string> out;
  for (auto& p : pieces) out.push_back(p.text);
  return out;
}

TEST(NormalizerTest, UnicodeFormsAndLowercase) {
  EXPECT_EQ(Normalized({{"type", "NFKC"}}, "\uFB01x\u00BD"), "fix1\u20442");
  EXPECT_EQ(Normalized({{"type", "NFD"}}, "\u00E9"), "e\u0301");
  EXPECT_EQ(Normalized({{"type", "NFC"}}, "e\u0301"), "\u00E9");
  // Per-char lowercase: final sigma is not context-sensitive (Rust char::to_lowercase).
  EXPECT_EQ(Normalized({{"type", "Lowercase"}}, "ΟΔΟΣ ABC"), "οδοσ abc");
}

TEST(NormalizerTest, SequenceOfPrependAndReplaceIsLlama2Style) {
  const nlohmann::json seq = {
      {"type", "Sequence"},
      {"normalizers",
       {{{"type", "Prepend"}, {"prepend", "\u2581"}},
        {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\u2581"}}}}};
  EXPECT_EQ(Normalized(seq, "a b"), "\u2581a\u2581b");
  EXPECT_EQ(Normalized(seq, ""), "");
}

TEST(NormalizerTest, BertCleansStripsAccentsAndPadsCjk) {
  const nlohmann::json bert = {{"type", "BertNormalizer"}, {"lowercase", true}};
  EXPECT_EQ(Normalized(bert, "Héllo\tW\u200Corld\u4E2D"), "hello world \u4E2D ");
}

TEST(PreTokenizerTest, SplitBehaviours) {
  auto split = [](const char* behavior) {
    return Pieces({{"type", "Split"}, {"pattern", {{"String", "-"}}}, {"behavior", behavior}},
                  "a-b--c");
  };
  EXPECT_THAT(split("Removed"), ElementsAre("a", "b", "c"));
  EXPECT_THAT(split("Isolated"), ElementsAre("a", "-", "b", "-", "-", "c"));
  EXPECT_THAT(split("MergedWithPrevious"), ElementsAre("a-", "b-", "-", "c"));
  EXPECT_THAT(split("MergedWithNext"), ElementsAre("a", "-b", "-", "-c"));
  EXPECT_THAT(split("Contiguous"), ElementsAre("a", "-", "b", "--", "c"));
}

TEST(PreTokenizerTest, ByteLevelUsesGpt2RegexAndByteChars) {
  EXPECT_THAT(Pieces({{"type", "ByteLevel"}, {"add_prefix_space", false}}, "Hi  you're\n"),
              ElementsAre("Hi", "\u0120", "\u0120you", "'re", "\u010A"));
}

TEST(PreTokenizerTest, LookAheadRegexOfLlama3) {
  const nlohmann::json split = {
      {"type", "Split"},
      {"pattern", {{"Regex", R"((?i:'s|'t)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|\s+(?!\S)|\s+)"}}},
      {"behavior", "Isolated"}};
  EXPECT_THAT(Pieces(split, "IT'S 12345  x"), ElementsAre("IT", "'S", " ", "123", "45", " ", " x"));
}

TEST(PreTokenizerTest, MetaspacePrependSchemes) {
  EXPECT_THAT(Pieces({{"type", "Metaspace"}, {"prepend_scheme", "always"}}, "a b"),
              ElementsAre("\u2581a", "\u2581b"));
  EXPECT_THAT(Pieces({{"type", "Metaspace"}, {"prepend_scheme", "never"}, {"split", false}}, "a b"),
              ElementsAre("a\u2581b"));
  // Legacy add_prefix_space=false means "never".
  EXPECT_THAT(Pieces({{"type", "Metaspace"}, {"add_prefix_space", false}}, "a"), ElementsAre("a"));
}

TEST(TokenizerTest, AddedTokensAreAtomicAndStripWhitespace) {
  nlohmann::json json = {
      {"model", BpeModelJson({"a", "b", " "}, {{"a", "b"}})},
      {"added_tokens",
       {{{"id", 10}, {"content", "<x>"}, {"special", true}, {"rstrip", true}},
        {{"id", 11}, {"content", "ab"}, {"special", false}, {"normalized", false}}}}};
  auto tokenizer = LoadOrDie(json);
  ASSERT_NE(tokenizer, nullptr);
  // "ab" is the added token 11, not the merge result 3; "<x>" absorbs the following spaces.
  EXPECT_THAT(tokenizer->Encode("a<x>  ab").value(), ElementsAre(0, 10, 11));
  EXPECT_EQ(tokenizer->vocab_size(), 12);
  EXPECT_EQ(tokenizer->IdToToken(10), "<x>");
  EXPECT_TRUE(tokenizer->IsSpecial(10));
  EXPECT_FALSE(tokenizer->IsSpecial(11));
}

TEST(TokenizerTest, TemplatePostProcessorOnlyWhenAsked) {
  nlohmann::json json = {
      {"model", BpeModelJson({"<s>", "a"}, {})},
      {"added_tokens", {{{"id", 0}, {"content", "<s>"}, {"special", true}}}},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single",
         {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
          {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
        {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {0}}, {"tokens", {"<s>"}}}}}}}}};
  auto tokenizer = LoadOrDie(json);
  ASSERT_NE(tokenizer, nullptr);
  EXPECT_THAT(tokenizer->Encode("a").value(), ElementsAre(1));
  EXPECT_THAT(tokenizer->Encode("a", true).value(), ElementsAre(0, 1));
}

TEST(TokenizerJsonTest, ErrorsNameWhatAndWhere) {
  auto error = [](const std::string& text) {
    auto t = LoadTokenizerJson(text);
    EXPECT_FALSE(t.ok());
    return std::string(t.status().message());
  };
  EXPECT_THAT(error("{\"model\": "), HasSubstr("invalid JSON at byte"));
  // Regression (fuzzer): a number overflow is an out_of_range exception, not a parse_error.
  EXPECT_THAT(error("{\"model\":444444444e454}"), HasSubstr("invalid JSON"));
  nlohmann::json base = {{"model", BpeModelJson({"a", "b"}, {{"a", "b"}})}};
  nlohmann::json j = base;
  j["normalizer"] = {{"type", "Sequence"}, {"normalizers", {{{"type", "Frobnicate"}}}}};
  EXPECT_THAT(error(j.dump()), HasSubstr("normalizer.normalizers[0].type: unknown normalizer"));
  j = base;
  j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(a"}}}};
  EXPECT_THAT(error(j.dump()), HasSubstr("pre_tokenizer.pattern: invalid regex"));
  j = base;
  j["model"]["vocab"]["c"] = 0;
  EXPECT_THAT(error(j.dump()), HasSubstr("duplicate id 0"));
  j = base;
  j["model"]["merges"].push_back({"a", "zz"});
  EXPECT_THAT(error(j.dump()), HasSubstr("'zz' is not in the vocabulary"));
  j = base;
  j["model"]["vocab"]["d"] = -3;
  EXPECT_THAT(error(j.dump()), HasSubstr("out of range"));
  j = base;
  j["model"]["type"] = "Magic";
  EXPECT_THAT(error(j.dump()), HasSubstr("unknown model type 'Magic'"));
}

TEST(TokenizerTest, InvalidUtf8InputIsAnError) {
  auto tokenizer = LoadOrDie({{"model", BpeModelJson({"a"}, {})}});
  ASSERT_NE(tokenizer, nullptr);
  auto ids = tokenizer->Encode(std::string("a\xC3(", 3));
  ASSERT_FALSE(ids.ok());
  EXPECT_THAT(std::string(ids.status().message()), HasSubstr("invalid UTF-8 at byte offset 1"));
}

}  // namespace
}  // namespace zett::tokenizer
