#include "core/train/text_corpus.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "tests/core/train/tiny_corpus.h"

namespace zett {
namespace {

namespace fs = std::filesystem;

class TextCorpusTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = (fs::path(::testing::TempDir()) / "text_corpus_test").string();
    fs::remove_all(dir_);
    ASSERT_EQ(MakeTinyCorpus(dir_), "");
    docs_ = WriteToyLanguage(dir_ + "/extra/xx.txt", false, 5, 9);
  }
  void SetUp() override {
    auto encoder = SentencePieceEncoder::Load(dir_ + "/tokenizer/tokenizer.model");
    ASSERT_TRUE(encoder.ok()) << encoder.status();
    encoder_ = std::make_unique<SentencePieceEncoder>(*std::move(encoder));
  }
  static std::string dir_;
  static std::vector<std::string> docs_;
  std::unique_ptr<SentencePieceEncoder> encoder_;
};
std::string TextCorpusTest::dir_;
std::vector<std::string> TextCorpusTest::docs_;

TEST_F(TextCorpusTest, ExpandsGlobsAndLists) {
  auto paths = ExpandFileList(dir_ + "/train/*.txt," + dir_ + "/extra/xx.txt");
  ASSERT_TRUE(paths.ok()) << paths.status();
  EXPECT_EQ(paths->size(), 3u);
  EXPECT_FALSE(ExpandFileList(dir_ + "/nothing/*.txt").ok());
}

TEST_F(TextCorpusTest, EncodesEachDocumentBetweenBosAndEos) {
  auto streams =
      TokenizeFiles({dir_ + "/extra/xx.txt"}, *encoder_, encoder_->bos_id(), encoder_->eos_id(), 2);
  ASSERT_TRUE(streams.ok()) << streams.status();
  const TokenStream& s = (*streams)[0];
  EXPECT_EQ(s.name, "xx");
  EXPECT_EQ(s.documents, static_cast<int64_t>(docs_.size()));
  std::vector<int32_t> expected;
  int64_t bytes = 0;
  for (const auto& doc : docs_) {
    expected.push_back(encoder_->bos_id());
    auto ids = encoder_->Encode(doc);
    ASSERT_TRUE(ids.ok()) << ids.status();
    expected.insert(expected.end(), ids->begin(), ids->end());
    expected.push_back(encoder_->eos_id());
    bytes += doc.size();
  }
  EXPECT_EQ(s.tokens, expected);
  EXPECT_GT(s.tokens.size(), 4 * docs_.size());  // the text itself is encoded, not only BOS/EOS
  EXPECT_EQ(s.bytes, bytes);
}

TEST_F(TextCorpusTest, CachedStreamsEqualFreshOnes) {
  const std::string cache = dir_ + "/cache";
  auto fresh = TokenizeFiles({dir_ + "/train/ru.txt"}, *encoder_, 1, 2, 1, cache, "key");
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  ASSERT_FALSE(fs::is_empty(cache));
  auto cached = TokenizeFiles({dir_ + "/train/ru.txt"}, *encoder_, 1, 2, 1, cache, "key");
  ASSERT_TRUE(cached.ok()) << cached.status();
  EXPECT_EQ((*cached)[0].name, "ru");
  EXPECT_EQ((*cached)[0].tokens, (*fresh)[0].tokens);
  EXPECT_EQ((*cached)[0].bytes, (*fresh)[0].bytes);
  EXPECT_EQ((*cached)[0].documents, (*fresh)[0].documents);
  // Another tokenizer key does not reuse the entry.
  auto other = TokenizeFiles({dir_ + "/train/ru.txt"}, *encoder_, -1, -1, 1, cache, "other");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ((*other)[0].tokens.size() + 2 * (*fresh)[0].documents, (*fresh)[0].tokens.size());
}

TEST_F(TextCorpusTest, SamplerIsDeterministicPerStepAndWeightsBySize) {
  auto paths = ExpandFileList(dir_ + "/train/*.txt");
  ASSERT_TRUE(paths.ok());
  auto streams = TokenizeFiles(*paths, *encoder_, encoder_->bos_id(), encoder_->eos_id(), 2);
  ASSERT_TRUE(streams.ok());
  const double n0 = (*streams)[0].tokens.size(), n1 = (*streams)[1].tokens.size();
  WindowSampler proportional(&*streams, 16, /*alpha=*/1.0);
  EXPECT_NEAR(proportional.probabilities()[0], n0 / (n0 + n1), 1e-9);
  WindowSampler flattened(&*streams, 16, /*alpha=*/0.5);
  EXPECT_NEAR(flattened.probabilities()[0], std::sqrt(n0) / (std::sqrt(n0) + std::sqrt(n1)), 1e-9);

  auto a = proportional.Batch(8, /*seed=*/3, /*step=*/5);
  EXPECT_EQ(a.sizes(), (std::vector<int64_t>{8, 16}));
  EXPECT_TRUE(at::equal(a, proportional.Batch(8, 3, 5)));
  EXPECT_FALSE(at::equal(a, proportional.Batch(8, 3, 6)));
  EXPECT_FALSE(at::equal(a, proportional.Batch(8, 4, 5)));

  auto windows = EvaluationWindows((*streams)[0], 16, 3);
  ASSERT_EQ(windows.size(0), 3);
  for (int64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(windows[i][0].item<int64_t>(), (*streams)[0].tokens[i * 16]);
  }
}

}  // namespace
}  // namespace zett
