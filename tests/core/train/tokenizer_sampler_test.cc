#include "core/train/tokenizer_sampler.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/tokenizer/byte_level.h"
#include "core/tokenizer/unigram_model.h"

namespace zett {
namespace {

using tokenizer::BytesToByteChars;

std::unique_ptr<TokenizerSampler> MakeSampler(const TokenizerSamplerOptions& options,
                                              uint64_t seed = 1) {
  auto sampler = TokenizerSampler::Create(options, seed);
  EXPECT_TRUE(sampler.ok()) << sampler.status();
  return std::move(sampler).value();
}

// Options with negligible noise (sigma ~ 1e-30) so scores are the normalised counts.
TokenizerSamplerOptions Noiseless() {
  TokenizerSamplerOptions options;
  options.noise_mean = 1e-30;
  options.noise_std = 0;
  options.stride = 1;
  return options;
}

std::map<std::string, double> ScoresByPiece(const SampledTokenizer& t) {
  std::map<std::string, double> out;
  for (size_t i = 0; i < t.pieces.size(); ++i) out[t.pieces[i]] = t.log_scores[i];
  return out;
}

// Words of several scripts, drawn with a Zipf-like skew: a stand-in for multilingual text.
std::vector<std::string> SyntheticBatch(int texts, int words_per_text, uint64_t seed) {
  const std::vector<std::string> words = {
      "the",    "house",  "über",   "straße", "день", "мир",  "καλή", "मेरा",
      "naam",   "tokens", "hyper",  "net",    "zero", "shot", "ok",   "123",
      "señora", "ça",     "日本語", "test",   "a",    "is",   "of",   "transfer"};
  std::mt19937_64 rng(seed);
  std::vector<double> weights;
  for (size_t i = 0; i < words.size(); ++i) weights.push_back(1.0 / (1.0 + i));
  std::discrete_distribution<size_t> pick(weights.begin(), weights.end());
  std::vector<std::string> batch;
  for (int t = 0; t < texts; ++t) {
    std::string text;
    for (int w = 0; w < words_per_text; ++w) {
      if (w) text += (w % 11 == 0) ? "\n" : " ";
      text += words[pick(rng)];
      if (w % 7 == 6) text += ".";
    }
    batch.push_back(text);
  }
  return batch;
}

TEST(TokenizerSampler, ByteAlphabetAndWhitespaceRunsAreAlwaysIn) {
  auto sampler = MakeSampler(TokenizerSamplerOptions{});
  auto sampled = sampler->PushAndSample({"hello world"});
  ASSERT_TRUE(sampled.ok()) << sampled.status();
  const auto scores = ScoresByPiece(*sampled);
  for (int byte = 0; byte < 256; ++byte) {
    EXPECT_EQ(scores.count(tokenizer::ByteToChar(static_cast<uint8_t>(byte))), 1u) << byte;
  }
  const std::string space = BytesToByteChars(" "), newline = BytesToByteChars("\n");
  EXPECT_EQ(scores.count(space + space), 1u);
  EXPECT_EQ(scores.count(newline + space + space + space), 1u);
  std::string longest = newline;
  for (int i = 0; i < 15; ++i) longest += space;
  EXPECT_EQ(scores.count(longest), 1u);
  EXPECT_EQ(sampled->pieces.size(), sampled->log_scores.size());
  EXPECT_EQ(std::set<std::string>(sampled->pieces.begin(), sampled->pieces.end()).size(),
            sampled->pieces.size());
}

TEST(TokenizerSampler, ScoresAreLogFrequencyTimesLength) {
  auto sampler = MakeSampler(Noiseless());
  // Pre-tokens (prefix space added): " hello", " hello", " hi". A substring scores count x the
  // UTF-8 length of its byte-char form (zett's token.len(); "Ġ" is 2 bytes): "Ġhello" 2 x 7,
  // "Ġh" 3 x 3, "hi" 1 x 2, and the rarest, e.g. "i", 1 x 1.
  auto sampled = sampler->PushAndSample({"hello hello hi"});
  ASSERT_TRUE(sampled.ok());
  double total = 0;
  for (const std::string& word :
       {std::string(" hello"), std::string(" hello"), std::string(" hi")}) {
    for (size_t start = 0; start < word.size(); ++start) {
      for (size_t len = 1; len <= 15 && start + len <= word.size(); ++len) {
        total += static_cast<double>(BytesToByteChars(word.substr(start, len)).size());
      }
    }
  }
  const auto scores = ScoresByPiece(*sampled);
  EXPECT_NEAR(scores.at(BytesToByteChars(" hello")), std::log(14 / total), 1e-9);
  EXPECT_NEAR(scores.at(BytesToByteChars(" h")), std::log(9 / total), 1e-9);
  EXPECT_NEAR(scores.at("hi"), std::log(2 / total), 1e-9);
  // Bytes get the lowest observed frequency: a length-1 substring seen once ("i").
  EXPECT_NEAR(scores.at("z"), std::log(1 / total), 1e-9);
}

TEST(TokenizerSampler, KeepsTheTopKByScore) {
  TokenizerSamplerOptions options = Noiseless();
  options.vocab_size = 256 + 135 + 40;  // bytes + whitespace runs + 40 substrings
  auto sampler = MakeSampler(options);
  auto sampled = sampler->PushAndSample(SyntheticBatch(16, 50, 3));
  ASSERT_TRUE(sampled.ok());
  ASSERT_EQ(sampled->pieces.size(), 431u);
  for (size_t i = 392; i < sampled->log_scores.size(); ++i) {
    EXPECT_GE(sampled->log_scores[i - 1], sampled->log_scores[i]);
  }
  // The most frequent word, with its leading space, is among them.
  const auto scores = ScoresByPiece(*sampled);
  EXPECT_EQ(scores.count(BytesToByteChars(" the")), 1u);
}

TEST(TokenizerSampler, SubstringsStartAtCharacterBoundaries) {
  TokenizerSamplerOptions options = Noiseless();
  options.vocab_size = 100000;  // everything counted
  auto sampler = MakeSampler(options);
  auto sampled = sampler->PushAndSample({"übergrößen день 日本語"});
  ASSERT_TRUE(sampled.ok());
  const size_t fixed = 256 + 135;
  ASSERT_GT(sampled->pieces.size(), fixed);
  for (size_t i = fixed; i < sampled->pieces.size(); ++i) {
    auto bytes = tokenizer::ByteCharsToBytes(sampled->pieces[i]);
    ASSERT_TRUE(bytes.has_value());
    EXPECT_NE(static_cast<unsigned char>((*bytes)[0]) & 0xC0, 0x80) << sampled->pieces[i];
    EXPECT_LE(bytes->size(), 15u);
  }
  // A multi-byte character's bytes form a piece ("日" is 3 bytes).
  EXPECT_EQ(ScoresByPiece(*sampled).count(BytesToByteChars("日")), 1u);
}

TEST(TokenizerSampler, QueueForgetsTheOldestBatch) {
  TokenizerSamplerOptions options = Noiseless();
  options.queue_batches = 2;
  options.vocab_size = 100000;
  auto sampler = MakeSampler(options);
  sampler->Push({"alpha alpha"});
  sampler->Push({"beta"});
  auto with_alpha = sampler->Sample();
  ASSERT_TRUE(with_alpha.ok());
  EXPECT_EQ(ScoresByPiece(*with_alpha).count(BytesToByteChars(" alpha")), 1u);
  sampler->Push({"gamma"});
  EXPECT_EQ(sampler->queued_batches(), 2);
  auto without = sampler->Sample();
  ASSERT_TRUE(without.ok());
  EXPECT_EQ(ScoresByPiece(*without).count(BytesToByteChars(" alpha")), 0u);
  EXPECT_EQ(ScoresByPiece(*without).count(BytesToByteChars(" beta")), 1u);
}

TEST(TokenizerSampler, NoiseScaleIsDrawnPerTokenizer) {
  auto sampler = MakeSampler(TokenizerSamplerOptions{}, 9);
  sampler->Push(SyntheticBatch(8, 40, 1));
  std::set<double> sigmas;
  for (int i = 0; i < 5; ++i) {
    auto sampled = sampler->Sample();
    ASSERT_TRUE(sampled.ok());
    EXPECT_GT(sampled->noise_sigma, 0);
    sigmas.insert(sampled->noise_sigma);
  }
  EXPECT_EQ(sigmas.size(), 5u);
}

TEST(TokenizerSampler, RestoredStateSamplesTheSameTokenizer) {
  TokenizerSamplerOptions options;
  options.vocab_size = 600;
  auto sampler = MakeSampler(options, 5);
  sampler->Push(SyntheticBatch(8, 40, 1));
  sampler->Push(SyntheticBatch(8, 40, 2));
  auto restored = MakeSampler(options, 777);
  ASSERT_TRUE(restored->RestoreState(sampler->SerializeState()).ok());
  EXPECT_EQ(restored->distinct_substrings(), sampler->distinct_substrings());
  for (int i = 0; i < 2; ++i) {
    auto a = sampler->PushAndSample(SyntheticBatch(4, 30, 10 + i));
    auto b = restored->PushAndSample(SyntheticBatch(4, 30, 10 + i));
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->pieces, b->pieces);
    EXPECT_EQ(a->log_scores, b->log_scores);
  }
  EXPECT_FALSE(restored->RestoreState("not a state").ok());
}

TEST(TokenizerSampler, PiecesMakeAUnigramModelThatCoversTheBatch) {
  TokenizerSamplerOptions options;
  options.vocab_size = 1000;
  auto sampler = MakeSampler(options, 3);
  const auto batch = SyntheticBatch(8, 40, 4);
  auto sampled = sampler->PushAndSample(batch);
  ASSERT_TRUE(sampled.ok());
  std::vector<std::pair<std::string, double>> pieces;
  for (size_t i = 0; i < sampled->pieces.size(); ++i) {
    pieces.emplace_back(sampled->pieces[i], sampled->log_scores[i]);
  }
  auto model = tokenizer::UnigramModel::Create(pieces, std::nullopt, /*byte_fallback=*/false);
  ASSERT_TRUE(model.ok()) << model.status();
  // A pre-token of the batch is segmented into pieces that spell it, frequent words in one piece.
  for (const std::string& word :
       {std::string(" the"), std::string(" straße"), std::string(" день")}) {
    const std::string chars = BytesToByteChars(word);
    std::vector<int32_t> ids;
    ASSERT_TRUE((*model)->Tokenize(chars, &ids).ok());
    std::string spelled;
    for (int32_t id : ids) spelled += sampled->pieces[id];
    EXPECT_EQ(spelled, chars);
    if (word == " the") {
      EXPECT_EQ(ids.size(), 1u);
    }
  }
}

TEST(TokenizerSampler, RejectsBadOptionsAndEmptyQueue) {
  TokenizerSamplerOptions bad;
  bad.vocab_size = 100;
  EXPECT_FALSE(TokenizerSampler::Create(bad, 0).ok());
  auto sampler = MakeSampler(TokenizerSamplerOptions{});
  EXPECT_EQ(sampler->Sample().status().code(), absl::StatusCode::kFailedPrecondition);
}

// Text of random words over a mixed Latin/Cyrillic alphabet: many distinct substrings, as in
// real multilingual text (SyntheticBatch's small word list gives only a few hundred).
std::vector<std::string> RandomWordBatch(int texts, size_t chars_per_text, uint64_t seed) {
  const std::vector<std::string> letters = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "k",
                                            "l", "m", "n", "o", "p", "r", "s", "t", "u", "v",
                                            "é", "ü", "ß", "д", "ж", "и", "к", "л", "м", "я"};
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<size_t> letter(0, letters.size() - 1), length(1, 9);
  std::vector<std::string> batch;
  for (int t = 0; t < texts; ++t) {
    std::string text;
    while (text.size() < chars_per_text) {
      if (!text.empty()) text += " ";
      for (size_t n = length(rng); n > 0; --n) text += letters[letter(rng)];
    }
    batch.push_back(text);
  }
  return batch;
}

TEST(TokenizerSampler, PaperSizedStepIsFast) {
  // The paper's step: batches of 128 texts of ~2048 chars (16 x 128), k = 32768, the current
  // batch plus older ones queued (16 in the paper; ZETT_SAMPLER_QUEUE overrides the default 4
  // to keep the unit test short).
  const char* queue_env = std::getenv("ZETT_SAMPLER_QUEUE");
  const int queue = queue_env ? std::atoi(queue_env) : 4;
  TokenizerSamplerOptions options;
  options.queue_batches = queue;
  auto sampler = MakeSampler(options, 2);
  for (int b = 0; b + 1 < queue; ++b) sampler->Push(RandomWordBatch(128, 2048, 100 + b));
  const auto batch = RandomWordBatch(128, 2048, 999);
  const auto start = std::chrono::steady_clock::now();
  sampler->Push(batch);
  const auto pushed = std::chrono::steady_clock::now();
  auto sampled = sampler->Sample();
  const auto done = std::chrono::steady_clock::now();
  ASSERT_TRUE(sampled.ok());
  EXPECT_EQ(sampled->pieces.size(), 32768u);
  const double push_s = std::chrono::duration<double>(pushed - start).count();
  const double sample_s = std::chrono::duration<double>(done - pushed).count();
  RecordProperty("push_seconds", std::to_string(push_s));
  RecordProperty("sample_seconds", std::to_string(sample_s));
  std::printf("queue %d: push %.3f s, sample %.3f s, %lld distinct substrings\n", queue, push_s,
              sample_s, static_cast<long long>(sampler->distinct_substrings()));
  EXPECT_LT(push_s + sample_s, 60.0);
}

}  // namespace
}  // namespace zett
