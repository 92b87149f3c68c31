#include "core/train/zett_batch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "core/tokenizer/byte_level.h"
#include "core/tokenizer/sentencepiece_model.h"
#include "core/train/batch_prefetcher.h"
#include "core/train/training_texts.h"
#include "tests/core/train/tiny_corpus.h"

namespace zett {
namespace {

namespace fs = std::filesystem;

class ZettBatchTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    corpus_ = new std::string((fs::path(::testing::TempDir()) / "zett_batch_corpus").string());
    fs::remove_all(*corpus_);
    ASSERT_EQ(MakeTinyCorpus(*corpus_), "");
    std::ifstream in(*corpus_ + "/tokenizer/tokenizer.model", std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    auto tok = tokenizer::LoadSentencePieceModel(bytes.str());
    ASSERT_TRUE(tok.ok()) << tok.status();
    original_ = tok->release();
  }
  static void TearDownTestSuite() {
    delete original_;
    delete corpus_;
  }

  static std::unique_ptr<ZettBatchBuilder> Builder(int64_t seq_len) {
    ZettBatchOptions options;
    options.seq_len = seq_len;
    options.max_len = 4;
    options.vocab_rows = 640;
    auto b = ZettBatchBuilder::Create(*original_, /*bos_id=*/1, /*pad_id=*/2, options);
    EXPECT_TRUE(b.ok()) << b.status();
    return b.ok() ? std::move(b).value() : nullptr;
  }

  static SampledTokenizer SampleFor(const std::vector<std::string>& texts) {
    TokenizerSamplerOptions o;
    o.vocab_size = 600;
    auto sampler = TokenizerSampler::Create(o, 7);
    EXPECT_TRUE(sampler.ok());
    auto sampled = (*sampler)->PushAndSample(texts);
    EXPECT_TRUE(sampled.ok()) << sampled.status();
    return *sampled;
  }

  static std::string* corpus_;
  static tokenizer::Tokenizer* original_;
};
std::string* ZettBatchTest::corpus_ = nullptr;
tokenizer::Tokenizer* ZettBatchTest::original_ = nullptr;

TEST_F(ZettBatchTest, TextsAreAPureFunctionOfSeedAndStep) {
  auto texts = TrainingTexts::Load(*corpus_ + "/train/*.txt");
  ASSERT_TRUE(texts.ok()) << texts.status();
  EXPECT_EQ(texts->names(), (std::vector<std::string>{"en", "ru"}));
  EXPECT_EQ(texts->documents(), 450);
  const auto a = texts->Sample(8, 30, 0.3, 1, 5);
  EXPECT_EQ(a, texts->Sample(8, 30, 0.3, 1, 5));
  EXPECT_NE(a, texts->Sample(8, 30, 0.3, 1, 6));
  for (const auto& t : a) {
    EXPECT_LE(t.size(), 30u);
    EXPECT_FALSE(t.empty());
    // Cut on char boundaries: never starts or ends inside a UTF-8 sequence.
    EXPECT_NE(static_cast<unsigned char>(t[0]) & 0xC0, 0x80);
  }
}

TEST_F(ZettBatchTest, BatchSpellsTheTextsWithTheSampledVocabulary) {
  auto texts = TrainingTexts::Load(*corpus_ + "/train/*.txt");
  ASSERT_TRUE(texts.ok());
  const auto batch_texts = texts->Sample(6, 200, 0.3, 3, 0);
  const SampledTokenizer sampled = SampleFor(batch_texts);
  auto builder = Builder(/*seq_len=*/512);
  auto batch = builder->Build(batch_texts, sampled);
  ASSERT_TRUE(batch.ok()) << batch.status();
  const int64_t k = static_cast<int64_t>(sampled.pieces.size());
  const auto specials =
      static_cast<int64_t>(builder->decomposer().original_vocabulary().special_tokens.size());
  ASSERT_EQ(batch->vocab_rows, k + specials);  // the pieces, then the original's specials
  EXPECT_EQ(batch->surface_forms.sizes(), (std::vector<int64_t>{640, 4}));
  EXPECT_EQ(batch->row_source.sizes(), (std::vector<int64_t>{640}));
  // Padding rows: masked in the LM head, all padding, neither copied nor in the aux loss.
  for (int64_t r = 0; r < 640; ++r) {
    const bool padding = r >= batch->vocab_rows;
    EXPECT_EQ(batch->vocab_bias[r].item<float>() < -1e3, padding) << r;
    if (padding) {
      EXPECT_TRUE((batch->surface_forms[r] == 2).all().item<bool>()) << r;
      EXPECT_EQ(batch->row_source[r].item<int64_t>(), -1);
      EXPECT_EQ(batch->aux_source[r].item<int64_t>(), -1);
    }
  }
  // BOS / pad are the original ids 1 / 2, appended after the pieces, and keep their rows.
  int64_t bos = -1, pad = -1;
  for (int64_t r = k; r < k + specials; ++r) {
    if (batch->row_source[r].item<int64_t>() == 1) bos = r;
    if (batch->row_source[r].item<int64_t>() == 2) pad = r;
  }
  ASSERT_GE(bos, 0);
  ASSERT_GE(pad, 0);
  int64_t label_bytes = 0, tokens = 0;
  for (int64_t b = 0; b < 6; ++b) {
    EXPECT_EQ(batch->input_ids[b][0].item<int64_t>(), bos);
    std::string spelled;
    const int64_t n = 1 + (batch->labels[b] != -100).sum().item<int64_t>();
    for (int64_t t = 1; t < n; ++t)
      spelled += sampled.pieces[batch->input_ids[b][t].item<int64_t>()];
    // Prepend(" ") then byte chars: the pieces spell " " + text.
    EXPECT_EQ(spelled, tokenizer::BytesToByteChars(" " + batch_texts[b]));
    for (int64_t t = 0; t + 1 < n; ++t) {
      EXPECT_EQ(batch->labels[b][t].item<int64_t>(), batch->input_ids[b][t + 1].item<int64_t>());
    }
    EXPECT_EQ(batch->labels[b][n - 1].item<int64_t>(), -100);
    if (n < 512) EXPECT_EQ(batch->input_ids[b][n].item<int64_t>(), pad);
    label_bytes += static_cast<int64_t>(batch_texts[b].size()) + 1;
    tokens += n - 1;
  }
  EXPECT_EQ(batch->tokens, tokens);
  EXPECT_EQ(batch->label_bytes, label_bytes);
  // Aux rows: exactly the pieces whose decomposition is one original (non-added) id.
  const auto& vocab = builder->decomposer().original_vocabulary();
  auto sf = batch->surface_forms.accessor<int32_t, 2>();
  int64_t single = 0;
  for (int64_t r = 0; r < k; ++r) {
    const bool one = sf[r][1] == 2 && sf[r][0] < vocab.original_size;
    single += one;
    const int64_t source = batch->aux_source[r].item<int64_t>();
    EXPECT_EQ(source >= 0, one) << sampled.pieces[r];
    if (one) {
      EXPECT_EQ(sf[r][0], source);
      EXPECT_EQ(vocab.surface_forms[source], sampled.pieces[r]);
    }
  }
  EXPECT_GT(single, 10);
}

// The original tokenizer as the target: every text token is its own row, and (almost) every
// row of the original vocabulary decomposes to itself.
TEST_F(ZettBatchTest, IdentityBatchesUseTheOriginalTokenizerItself) {
  auto builder = Builder(/*seq_len=*/64);
  const std::vector<std::string> texts = {"the cat sat on the mat.", "кот"};
  auto batch = builder->BuildIdentity(texts);
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_TRUE(batch->identity);
  const std::vector<int32_t> ids = original_->Encode(texts[0]).value();
  EXPECT_EQ(batch->input_ids[0][0].item<int64_t>(), 1);  // the original BOS
  for (size_t t = 0; t < ids.size(); ++t) {
    EXPECT_EQ(batch->input_ids[0][t + 1].item<int64_t>(), ids[t]);
  }
  int64_t self = 0;
  const int64_t n = original_->vocab_size();
  for (int64_t r = 0; r < n; ++r) {
    self += batch->aux_source[r].item<int64_t>() == r || batch->row_source[r].item<int64_t>() == r;
  }
  EXPECT_GT(self, n * 9 / 10);
  for (const auto& [id, content] : builder->decomposer().original_vocabulary().special_tokens) {
    EXPECT_EQ(batch->row_source[id].item<int64_t>(), id) << content;
  }
}

TEST_F(ZettBatchTest, LongTextsAreTruncatedToSeqLen) {
  const std::vector<std::string> texts = {std::string(300, 'a') + " the cat sat"};
  auto batch = Builder(8)->Build(texts, SampleFor(texts));
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(batch->input_ids.sizes(), (std::vector<int64_t>{1, 8}));
  EXPECT_EQ((batch->labels != -100).sum().item<int64_t>(), 8);
  EXPECT_EQ(batch->tokens, 8);  // the 8th label is the 9th token
}

// Short rows are packed with fillers: BOS-separated, no label across the boundary, padding
// only where the fillers ran out; unused fillers are not counted.
TEST_F(ZettBatchTest, ShortRowsArePackedWithFillersAtBosBoundaries) {
  const std::vector<std::string> texts = {"the cat", "a dog"};
  const std::vector<std::string> fillers = {"sat on the mat", "ran far away", "and back home",
                                            std::string(400, 'z'), std::string(400, 'z')};
  std::vector<std::string> all = texts;
  all.insert(all.end(), fillers.begin(), fillers.end());
  const SampledTokenizer sampled = SampleFor(all);
  auto builder = Builder(/*seq_len=*/24);
  auto packed = builder->Build(texts, sampled, fillers);
  auto plain = builder->Build(texts, sampled);
  ASSERT_TRUE(packed.ok()) << packed.status();
  ASSERT_TRUE(plain.ok()) << plain.status();
  const int64_t k = static_cast<int64_t>(sampled.pieces.size());
  auto spell = [&](const at::Tensor& ids, int64_t b, int64_t from, int64_t to) {
    std::string s;
    for (int64_t t = from; t < to; ++t) s += sampled.pieces[ids[b][t].item<int64_t>()];
    return s;
  };
  // Row 0: BOS "the cat" BOS "sat on the mat" BOS "ran far away" … until 25 ids.
  const at::Tensor ids = packed->input_ids;
  const int64_t bos = ids[0][0].item<int64_t>();
  ASSERT_GE(bos, k);  // a special row
  std::vector<int64_t> boundaries;
  for (int64_t t = 0; t < 24; ++t) {
    if (ids[0][t].item<int64_t>() == bos) boundaries.push_back(t);
  }
  ASSERT_GE(boundaries.size(), 3u);
  EXPECT_EQ(spell(ids, 0, 1, boundaries[1]), tokenizer::BytesToByteChars(" the cat"));
  EXPECT_EQ(spell(ids, 0, boundaries[1] + 1, boundaries[2]),
            tokenizer::BytesToByteChars(" sat on the mat"));
  for (size_t i = 1; i < boundaries.size(); ++i) {
    EXPECT_EQ(packed->labels[0][boundaries[i] - 1].item<int64_t>(), -100) << boundaries[i];
    EXPECT_EQ(packed->labels[0][boundaries[i]].item<int64_t>(),
              ids[0][boundaries[i] + 1].item<int64_t>());
  }
  // No padding input in a packed row; every position but the masked boundaries is labelled.
  for (int64_t b = 0; b < 2; ++b) {
    for (int64_t t = 0; t < 24; ++t) {
      EXPECT_NE(ids[b][t].item<int64_t>(), plain->input_ids[0][23].item<int64_t>()) << b << t;
    }
  }
  const int64_t labelled = (packed->labels != -100).sum().item<int64_t>();
  EXPECT_EQ(packed->tokens, labelled);
  EXPECT_GT(packed->tokens, 2 * plain->tokens);
  EXPECT_GT(packed->label_bytes, packed->tokens);
  // The bytes counted are the texts and the fillers used, in order.
  std::vector<int64_t> prefix_bytes = {static_cast<int64_t>(texts[0].size() + texts[1].size())};
  for (const auto& f : fillers) prefix_bytes.push_back(prefix_bytes.back() + f.size());
  EXPECT_NE(std::find(prefix_bytes.begin() + 1, prefix_bytes.end(), packed->text_bytes),
            prefix_bytes.end())
      << packed->text_bytes;
  // A long filler is cut where the row ends; fillers after it are never read.
  auto one = builder->Build({"the cat"}, sampled, {std::string(400, 'z'), "never read"});
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->text_bytes, 7 + 400);
  EXPECT_EQ((one->labels != -100).sum().item<int64_t>(), 23);  // 24 labels, one boundary
}

TEST_F(ZettBatchTest, MimickBatchesAreOriginalTokensDecomposedToThemselves) {
  auto builder = Builder(16);
  const ZettBatch a = builder->BuildMimick(50, 4, 9);
  EXPECT_TRUE(a.mimick);
  EXPECT_EQ(a.surface_forms.sizes(), (std::vector<int64_t>{50, 1}));
  EXPECT_TRUE(a.surface_forms.squeeze(1).to(at::kLong).equal(a.aux_source));
  EXPECT_TRUE((a.aux_source != 1).all().item<bool>());  // specials excluded
  EXPECT_TRUE((a.aux_source != 2).all().item<bool>());
  EXPECT_TRUE(a.aux_source.equal(builder->BuildMimick(50, 4, 9).aux_source));
}

TEST(BatchPrefetcher, DeliversStepsInOrderAheadOfTheConsumer) {
  std::atomic<int64_t> produced{0};
  BatchPrefetcher prefetcher(
      [&](int64_t step, int) -> absl::StatusOr<ZettBatch> {
        ++produced;
        ZettBatch b;
        b.tokens = step * 10;
        return b;
      },
      3, 8, 2);
  for (int64_t step = 3; step < 8; ++step) {
    auto b = prefetcher.Next();
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(b->step, step);
    EXPECT_EQ(b->tokens, step * 10);
  }
  EXPECT_EQ(produced.load(), 5);
  EXPECT_EQ(prefetcher.Next().status().code(), absl::StatusCode::kOutOfRange);
}

TEST(BatchPrefetcher, StopsCleanlyWhileBlockedOnAFullQueue) {
  std::atomic<int64_t> produced{0};
  const auto start = std::chrono::steady_clock::now();
  {
    BatchPrefetcher prefetcher(
        [&](int64_t, int) -> absl::StatusOr<ZettBatch> {
          ++produced;
          return ZettBatch();
        },
        0, 1000000, 2);
    while (produced.load() < 2) std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }  // destructor: must wake the producer and join
  // Capacity 2 bounds the work done ahead: at most one more batch after the queue filled.
  EXPECT_LE(produced.load(), 3);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(BatchPrefetcher, PassesTheProducersErrorOn) {
  BatchPrefetcher prefetcher(
      [](int64_t step, int) -> absl::StatusOr<ZettBatch> {
        if (step == 1) return absl::DataLossError("bad text");
        return ZettBatch();
      },
      0, 5, 4);
  EXPECT_TRUE(prefetcher.Next().ok());
  EXPECT_EQ(prefetcher.Next().status().code(), absl::StatusCode::kDataLoss);
}

// Worker w builds the steps s with s % W == w, wherever the run starts: a resumed run gives each
// step the worker (and so the sampler) the uninterrupted run gave it. Delivery stays in order.
TEST(BatchPrefetcher, WorkersOwnStepsByTheirNumberAndDeliverInOrder) {
  for (int64_t first : {0, 5}) {
    std::mutex mutex;
    std::map<int64_t, int> worker_of;
    BatchPrefetcher prefetcher(
        [&](int64_t step, int worker) -> absl::StatusOr<ZettBatch> {
          std::this_thread::sleep_for(std::chrono::microseconds(100 * ((step * 7) % 5)));
          std::lock_guard<std::mutex> lock(mutex);
          worker_of[step] = worker;
          return ZettBatch();
        },
        first, 20, 4, /*workers=*/3);
    for (int64_t step = first; step < 20; ++step) {
      auto b = prefetcher.Next();
      ASSERT_TRUE(b.ok());
      EXPECT_EQ(b->step, step);
    }
    for (const auto& [step, worker] : worker_of) EXPECT_EQ(worker, step % 3) << step;
    EXPECT_EQ(worker_of.size(), static_cast<size_t>(20 - first));
  }
}

}  // namespace
}  // namespace zett
