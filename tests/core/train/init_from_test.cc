// `zett-train pretrain --init_from=DIR`: the run starts from the folder's weights (its first
// logged loss is the loaded model's loss on the first batch, computed here) and refuses a folder
// whose model differs from the one the flags describe.
#include "core/train/init_from.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "core/io/json_file.h"
#include "core/io/safetensors.h"
#include "core/model/pretrained.h"
#include "core/train/pretrain.h"
#include "core/train/sentencepiece_encoder.h"
#include "core/train/text_corpus.h"
#include "tests/core/train/tiny_corpus.h"
#include "tests/core/train/tiny_pretrain.h"

namespace zett {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class InitFromTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    corpus_ = (fs::path(::testing::TempDir()) / "init_from_test_corpus").string();
    fs::remove_all(corpus_);
    ASSERT_EQ(MakeTinyCorpus(corpus_), "");
    // The model to start from: a few steps of pretraining, saved in fp32.
    PretrainOptions o = TinyOptions("init_from_start");
    o.steps = 8;
    o.save_dtype = "float32";
    ASSERT_TRUE(RunPretrain(o).ok());
    start_ = o.output_dir;
  }

  static PretrainOptions TinyOptions(const std::string& name) {
    PretrainOptions o =
        TinyPretrainOptions(corpus_, (fs::path(::testing::TempDir()) / name).string());
    o.warmup_steps = 2;
    o.eval_every = 100;
    o.save_every = 100;
    o.token_cache_dir = "";
    o.seed = 3;
    return o;
  }

  // The loaded model's mean next-token loss on the batch pretraining draws at step 0.
  static double FirstBatchLoss(const std::string& model_dir, const PretrainOptions& o) {
    auto model = LoadPretrainedBackbone(model_dir, {});
    EXPECT_TRUE(model.ok()) << model.status();
    auto encoder = SentencePieceEncoder::Load(o.tokenizer_dir + "/tokenizer.model");
    EXPECT_TRUE(encoder.ok()) << encoder.status();
    auto paths = ExpandFileList(o.train_files);
    EXPECT_TRUE(paths.ok()) << paths.status();
    auto streams = TokenizeFiles(*paths, *encoder, encoder->bos_id(), encoder->eos_id(), 1);
    EXPECT_TRUE(streams.ok()) << streams.status();
    WindowSampler sampler(&*streams, o.seq_len + 1, o.language_alpha);
    const at::Tensor batch = sampler.Batch(o.batch_size, o.seed, 0);
    const at::Tensor logits = model->Logits(batch.narrow(1, 0, o.seq_len), {});
    const at::Tensor targets = batch.narrow(1, 1, o.seq_len).reshape({-1});
    return at::cross_entropy_loss(logits.reshape({-1, logits.size(-1)}).to(at::kDouble), targets)
        .item<double>();
  }

  static double FirstLoggedLoss(const PretrainOptions& o) {
    auto state = ReadJsonFile(o.output_dir + "/trainer_state.json");
    EXPECT_TRUE(state.ok()) << state.status();
    return state.ok() ? (*state)["history"]["train"][0]["loss"].get<double>() : NAN;
  }

  static std::string corpus_;
  static std::string start_;
};
std::string InitFromTest::corpus_;
std::string InitFromTest::start_;

TEST_F(InitFromTest, FirstStepLossIsTheLoadedModelsLoss) {
  PretrainOptions o = TinyOptions("init_from_finetune");
  o.init_from = start_;
  o.steps = 2;
  ASSERT_TRUE(RunPretrain(o).ok());
  const double expected = FirstBatchLoss(start_, o);
  EXPECT_NEAR(FirstLoggedLoss(o), expected, 1e-4);

  // A random init starts elsewhere: well above the started-from model on the same batch.
  PretrainOptions scratch = TinyOptions("init_from_scratch");
  scratch.steps = 1;
  ASSERT_TRUE(RunPretrain(scratch).ok());
  EXPECT_GT(FirstLoggedLoss(scratch), expected + 0.3);

  // The folder keeps the started-from model's position range and records where it started.
  auto state = ReadJsonFile(o.output_dir + "/trainer_state.json");
  ASSERT_TRUE(state.ok());
  EXPECT_EQ((*state)["options"]["init_from"], start_);
}

TEST_F(InitFromTest, RefusesAFolderOfAnotherShape) {
  PretrainOptions o = TinyOptions("init_from_bad_config");
  o.init_from = start_;
  o.steps = 1;
  o.intermediate_size = 48;
  absl::Status status = RunPretrain(o);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr("--init_from=" + start_ +
                                          ": intermediate_size is 64 in its config.json but 48 "
                                          "here (--intermediate_size)"));
  EXPECT_FALSE(fs::exists(o.output_dir + "/model.safetensors"));
}

TEST_F(InitFromTest, RefusesATensorOfAnotherShape) {
  // The config says 64 but the weights are not: LoadStateDict names the tensor.
  const std::string bad = (fs::path(::testing::TempDir()) / "init_from_bad_weights").string();
  fs::remove_all(bad);
  fs::create_directories(bad);
  fs::copy_file(start_ + "/config.json", bad + "/config.json");
  auto tensors = ReadSafetensors(start_ + "/model.safetensors");
  ASSERT_TRUE(tensors.ok()) << tensors.status();
  (*tensors)["model.layers.1.mlp.up_proj.weight"] = at::zeros({48, 32});
  ASSERT_TRUE(WriteSafetensors(bad + "/model.safetensors", *tensors).ok());
  PretrainOptions o = TinyOptions("init_from_bad_tensor");
  o.init_from = bad;
  o.steps = 1;
  absl::Status status = RunPretrain(o);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_THAT(status.message(), HasSubstr("model.layers.1.mlp.up_proj.weight"));
  EXPECT_THAT(status.message(), HasSubstr("[48, 32]"));
}

}  // namespace
}  // namespace zett
