// SentencePiece .model loading, compared against libsentencepiece on models trained here with
// its trainer on generated text (Unigram and BPE, with byte fallback).
#include "core/tokenizer/sentencepiece_model.h"

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include "core/tokenizer/tokenizer_file.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/core/tokenizer/spm_reference.h"

namespace zett::tokenizer {
namespace {

// Sentences over a small multilingual syllable inventory, fixed seed.
std::vector<std::string> GeneratedSentences(int n, unsigned seed) {
  const std::vector<std::string> syllables = {"ka", "to", "ri", "mé", "ße", "на", "ло", "ду",
                                              "日", "本", "語", "ال", "سل", "ام", "12", "!"};
  std::mt19937 rng(seed);
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    std::string s;
    const int words = 3 + rng() % 8;
    for (int w = 0; w < words; ++w) {
      if (w > 0) s += (rng() % 9 == 0) ? "  " : " ";
      const int syl = 1 + rng() % 4;
      for (int k = 0; k < syl; ++k) s += syllables[rng() % syllables.size()];
    }
    out.push_back(s);
  }
  return out;
}

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

class SentencePieceModelTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SentencePieceModelTest, MatchesLibSentencePiece) {
  const std::string dir = TempDir();
  const std::string corpus = dir + "/spm_corpus_" + GetParam() + ".txt";
  {
    std::ofstream out(corpus);
    for (const auto& s : GeneratedSentences(3000, 7)) out << s << "\n";
  }
  const std::string prefix = dir + "/spm_" + GetParam();
  ASSERT_TRUE(testing::SpmTrain(
      "--input=" + corpus + " --model_prefix=" + prefix + " --model_type=" + GetParam() +
      " --vocab_size=300 --byte_fallback=true --minloglevel=2" + " --character_coverage=0.98"));
  std::ifstream in(prefix + ".model", std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  auto ours = LoadSentencePieceModel(bytes.str());
  ASSERT_TRUE(ours.ok()) << ours.status();
  std::vector<std::string> inputs = GeneratedSentences(300, 99);
  inputs.push_back("  leading and   inner spaces  ");
  inputs.push_back("unseen chars: ü ж 🙂 ✓");
  const std::vector<std::vector<int>> expected = testing::SpmEncode(bytes.str(), inputs);
  ASSERT_EQ(expected.size(), inputs.size());
  int same = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto ids = (*ours)->Encode(inputs[i]);
    ASSERT_TRUE(ids.ok()) << ids.status();
    const bool equal = std::vector<int>(ids->begin(), ids->end()) == expected[i];
    EXPECT_TRUE(equal) << inputs[i];
    same += equal;
  }
  EXPECT_EQ(same, static_cast<int>(inputs.size()));
}

INSTANTIATE_TEST_SUITE_P(ModelTypes, SentencePieceModelTest, ::testing::Values("unigram", "bpe"));

TEST(SentencePieceModelParseTest, MalformedBytesAreErrors) {
  EXPECT_FALSE(LoadSentencePieceModel("").ok());
  auto truncated = ParseSentencePieceModel(std::string("\x0a\x05\x0a\x01", 4));
  ASSERT_FALSE(truncated.ok());
  EXPECT_THAT(std::string(truncated.status().message()), ::testing::HasSubstr("past the end"));
}

// Bytes that are no tokenizer at all: the error names both formats that were tried.
TEST(SentencePieceModelParseTest, TextThatIsNeitherFormatNamesBoth) {
  auto loaded = LoadTokenizerBytes("this is a README, not a tokenizer\n", {});
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(loaded.status().message()),
              ::testing::HasSubstr("neither a tokenizer.json"));
  EXPECT_THAT(std::string(loaded.status().message()),
              ::testing::HasSubstr("nor a SentencePiece .model"));
}

}  // namespace
}  // namespace zett::tokenizer
