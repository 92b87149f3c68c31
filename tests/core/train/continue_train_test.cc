// zett-train continue (core/train/continue_train.h) on a tiny random Llama with the bundled
// original tokenizer (models/base-tokenizer) and a byte-level BPE target: step 0 is eval's
// number for the init method, a few CPU steps lower bits/byte, frozen rows stay, and bad inputs
// give clear errors.
#include "core/train/continue_train.h"

#include <c10/core/GradMode.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "core/eval/evaluation.h"
#include "core/hypernet/checkpoint.h"
#include "core/hypernet/hypernet.h"
#include "core/io/json_file.h"
#include "core/io/safetensors.h"
#include "core/model/hf_config.h"
#include "core/model/llama.h"
#include "core/model/state_dict.h"
#include "core/tokenizer/byte_level.h"
#include "core/tokenizer/decomposition.h"
#include "core/tokenizer/tokenizer_file.h"
#include "tests/core/eval/tiny_transfer_models.h"
#include "tests/core/train/tiny_corpus.h"

namespace zett {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::zett::testing::kOriginalTokenizer;
constexpr int64_t kHidden = ::zett::testing::kTinyHidden;

class ContinueTrainTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / "zett_continue_train_test");
    fs::remove_all(*dir_);
    ::zett::testing::WriteTinyTransferModels(*dir_, /*target_special=*/false);
    fs::create_directories(*dir_ / "train");
    fs::create_directories(*dir_ / "test");
    WriteToyLanguage((*dir_ / "train/en.txt").string(), /*cyrillic=*/false, 200, /*seed=*/1);
    WriteToyLanguage((*dir_ / "test/en.txt").string(), /*cyrillic=*/false, 6, /*seed=*/2);
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }

  static ContinueTrainOptions Options(EvalMethod init) {
    ContinueTrainOptions o;
    o.base_dir = (*dir_ / "base").string();
    o.hypernet_dir = (*dir_ / "hypernet").string();
    o.target_tokenizer = (*dir_ / "target/tokenizer.json").string();
    o.init = init;
    o.train_files = (*dir_ / "train/*.txt").string();
    o.test_text = (*dir_ / "test/en.txt").string();
    o.steps = 0;
    o.batch_size = 4;
    o.seq_len = 32;
    o.warmup_steps = 0;
    o.test_batch_size = 2;
    o.device = "cpu";
    o.dtype = "float32";
    o.seed = 4;
    return o;
  }

  static fs::path* dir_;
};
fs::path* ContinueTrainTest::dir_ = nullptr;

TEST_F(ContinueTrainTest, StepZeroIsEvalsBitsPerByteForEveryInit) {
  for (EvalMethod init :
       {EvalMethod::kHypernet, EvalMethod::kFvt, EvalMethod::kLexical, EvalMethod::kRandom}) {
    SCOPED_TRACE(EvalMethodName(init));
    ContinueTrainOptions o = Options(init);
    auto curve = RunContinueTraining(o, nullptr);
    ASSERT_TRUE(curve.ok()) << curve.status();
    ASSERT_EQ(curve->size(), 1u);
    EXPECT_EQ(curve->front().step, 0);
    EXPECT_EQ(curve->front().tokens_seen, 0);

    EvalOptions e;
    e.base_dir = o.base_dir;
    e.hypernet_dir = o.hypernet_dir;
    e.target_tokenizers = {o.target_tokenizer};
    e.texts = {o.test_text};
    e.methods = {init};
    e.device = "cpu";
    e.dtype = "float32";
    e.batch_size = 2;
    e.seed = o.seed;
    auto records = RunEvaluation(e, nullptr);
    ASSERT_TRUE(records.ok()) << records.status();
    ASSERT_EQ(records->size(), 1u);
    EXPECT_NEAR(curve->front().bits_per_byte, records->front().bits_per_byte, 1e-9);
    EXPECT_NEAR(curve->front().tokens_per_byte, records->front().tokens_per_byte, 1e-12);
  }
}

TEST_F(ContinueTrainTest, TrainingLowersBitsPerByteAndKeepsFrozenRows) {
  ContinueTrainOptions o = Options(EvalMethod::kRandom);
  o.steps = 30;
  o.eval_every = 10;
  o.lr = 3e-2;
  o.output_dir = (*dir_ / "out").string();
  std::ostringstream log;
  auto curve = RunContinueTraining(o, &log);
  ASSERT_TRUE(curve.ok()) << curve.status();
  SCOPED_TRACE(log.str());
  EXPECT_THAT(log.str(), HasSubstr("continue: step 30  tokens "));
  ASSERT_EQ(curve->size(), 4u);  // steps 0, 10, 20, 30
  for (size_t i = 1; i < curve->size(); ++i) {
    EXPECT_EQ((*curve)[i].step, static_cast<int64_t>(10 * i));
    EXPECT_GT((*curve)[i].tokens_seen, (*curve)[i - 1].tokens_seen);
    EXPECT_LT((*curve)[i].bits_per_byte, (*curve)[i - 1].bits_per_byte) << "point " << i;
    EXPECT_EQ((*curve)[i].tokens_per_byte, curve->front().tokens_per_byte);
  }
  EXPECT_LT(curve->back().train_loss, (*curve)[1].train_loss);

  auto written = ReadJsonFile((*dir_ / "out/curve.json").string());
  ASSERT_TRUE(written.ok()) << written.status();
  ASSERT_EQ(written->size(), 4u);
  EXPECT_EQ((*written)[3]["step"], 30);
  EXPECT_DOUBLE_EQ((*written)[3]["bits_per_byte"].get<double>(), curve->back().bits_per_byte);
  for (const char* key : {"step", "tokens_seen", "bits_per_byte", "tokens_per_byte"}) {
    EXPECT_TRUE((*written)[0].contains(key)) << key;
  }

  auto tables = ReadSafetensors((*dir_ / "out/embeddings.safetensors").string());
  ASSERT_TRUE(tables.ok()) << tables.status();
  const at::Tensor& in = tables->at("embeddings_in");
  const at::Tensor& out = tables->at("embeddings_out");
  ASSERT_EQ(in.dim(), 2);
  EXPECT_EQ(in.size(1), kHidden);
  EXPECT_EQ(out.sizes(), in.sizes());
  EXPECT_EQ(tables->at("row_of_target_id").size(0), 256 + 6);  // bytes and merges
  // The BOS keeps the original row (special rows are frozen by default).
  auto base = ReadSafetensors((*dir_ / "base/model.safetensors").string()).value();
  EXPECT_TRUE(in[1].equal(base.at("model.embed_tokens.weight")[1]));
  EXPECT_TRUE(out[1].equal(base.at("lm_head.weight")[1]));
}

TEST_F(ContinueTrainTest, BadInputsGiveClearErrors) {
  ContinueTrainOptions o = Options(EvalMethod::kFvt);
  o.target_tokenizer = "";
  EXPECT_THAT(std::string(RunContinueTraining(o, nullptr).status().message()),
              HasSubstr("--target_tokenizer is required"));

  o = Options(EvalMethod::kHypernet);
  o.hypernet_dir = "";
  EXPECT_THAT(std::string(RunContinueTraining(o, nullptr).status().message()),
              HasSubstr("--init=hypernet needs --hypernet"));

  EXPECT_THAT(std::string(ParseContinueInit("bpe-dropout").status().message()),
              HasSubstr("--init=bpe-dropout: expected hypernet, fvt, lexical or random"));
  EXPECT_FALSE(ParseContinueInit("original").ok());
  EXPECT_EQ(ParseContinueInit("fvt").value(), EvalMethod::kFvt);

  o = Options(EvalMethod::kFvt);
  o.test_text = (*dir_ / "missing.txt").string();
  auto missing = RunContinueTraining(o, nullptr);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("missing.txt"));

  o = Options(EvalMethod::kFvt);
  o.target_tokenizer = (*dir_ / "nope/tokenizer.json").string();
  EXPECT_THAT(std::string(RunContinueTraining(o, nullptr).status().message()),
              HasSubstr("target tokenizer"));
}

}  // namespace
}  // namespace zett
