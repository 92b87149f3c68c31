#include "core/train/pretrain.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/io/json_file.h"
#include "core/io/safetensors.h"
#include "core/model/pretrained.h"
#include "core/train/sentencepiece_encoder.h"
#include "tests/core/train/tiny_corpus.h"
#include "tests/core/train/tiny_pretrain.h"

namespace zett {
namespace {

namespace fs = std::filesystem;

class PretrainTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    corpus_ = (fs::path(::testing::TempDir()) / "pretrain_test_corpus").string();
    fs::remove_all(corpus_);
    ASSERT_EQ(MakeTinyCorpus(corpus_), "");
  }

  PretrainOptions TinyOptions(const std::string& name) const {
    PretrainOptions o =
        TinyPretrainOptions(corpus_, (fs::path(::testing::TempDir()) / name).string());
    o.valid_files = corpus_ + "/valid/en.txt," + corpus_ + "/valid/ru.txt";
    o.warmup_steps = 5;
    o.eval_windows = 4;
    o.token_cache_dir = corpus_ + "/token_cache";
    return o;
  }

  static nlohmann::json State(const PretrainOptions& o) {
    auto state = ReadJsonFile(o.output_dir + "/trainer_state.json");
    EXPECT_TRUE(state.ok()) << state.status();
    return state.ok() ? *state : nlohmann::json();
  }

  static std::string corpus_;
};
std::string PretrainTest::corpus_;

TEST_F(PretrainTest, LossGoesDownAndTheFolderLoadsAsLlama) {
  PretrainOptions o = TinyOptions("pretrain_learns");
  o.steps = 60;
  o.eval_every = 30;
  o.save_every = 30;
  ASSERT_TRUE(RunPretrain(o).ok());

  const auto state = State(o);
  EXPECT_EQ(state["step"], 60);
  const auto& train = state["history"]["train"];
  ASSERT_EQ(train.size(), 60u);
  double first = 0, last = 0;
  for (int i = 0; i < 5; ++i) {
    first += train[i]["loss"].get<double>() / 5;
    last += train[55 + i]["loss"].get<double>() / 5;
  }
  EXPECT_LT(last, first - 1.0) << "first " << first << " last " << last;
  const auto& valid = state["history"]["valid"];
  ASSERT_EQ(valid.size(), 2u);
  EXPECT_LT(valid[1]["mean_loss"].get<double>(), valid[0]["mean_loss"].get<double>());
  EXPECT_GT(valid[1]["ru"]["bits_per_byte"].get<double>(), 0);

  for (const char* file : {"config.json", "generation_config.json", "model.safetensors",
                           "tokenizer.model", "optimizer.safetensors", "loss_curve.png"}) {
    EXPECT_TRUE(fs::exists(o.output_dir + "/" + file)) << file;
  }
  // TensorBoard events: the version record and scalars for 60 log lines and 2 validations.
  int64_t event_bytes = 0;
  for (const auto& entry : fs::directory_iterator(o.output_dir)) {
    if (entry.path().filename().string().rfind("events.out.tfevents.", 0) == 0) {
      event_bytes += static_cast<int64_t>(entry.file_size());
    }
  }
  EXPECT_GT(event_bytes, 60 * 4 * 30);
  SafetensorsMetadata metadata;
  auto weights = ReadSafetensors(o.output_dir + "/model.safetensors", &metadata);
  ASSERT_TRUE(weights.ok()) << weights.status();
  EXPECT_EQ(metadata["format"], "pt");
  EXPECT_EQ(weights->at("lm_head.weight").scalar_type(), at::kBFloat16);
  auto model = LoadPretrainedBackbone(o.output_dir, {});
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(model->architecture, Architecture::kLlama);
  auto encoder = SentencePieceEncoder::Load(o.tokenizer_dir + "/tokenizer.model");
  ASSERT_TRUE(encoder.ok()) << encoder.status();
  EXPECT_EQ(model->decoder->config().vocab_size, encoder->vocab_size());
  EXPECT_EQ(model->decoder->config().bos_token_id, encoder->bos_id());
}

TEST_F(PretrainTest, ResumedRunContinuesIdentically) {
  PretrainOptions straight = TinyOptions("pretrain_straight");
  straight.steps = 10;
  straight.eval_every = 100;
  straight.save_every = 100;
  ASSERT_TRUE(RunPretrain(straight).ok());

  PretrainOptions interrupted = TinyOptions("pretrain_interrupted");
  interrupted.steps = 10;
  interrupted.eval_every = 100;
  interrupted.save_every = 100;
  interrupted.stop_after = 4;
  ASSERT_TRUE(RunPretrain(interrupted).ok());
  EXPECT_EQ(State(interrupted)["step"], 4);
  interrupted.stop_after = 0;
  ASSERT_TRUE(RunPretrain(interrupted).ok());

  const auto a = State(straight)["history"]["train"];
  const auto b = State(interrupted)["history"]["train"];
  ASSERT_EQ(a.size(), 10u);
  ASSERT_EQ(b.size(), 10u);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_NEAR(a[i]["loss"].get<double>(), b[i]["loss"].get<double>(), 1e-6) << "step " << i;
  }
  auto sa = ReadSafetensors(straight.output_dir + "/optimizer.safetensors");
  auto sb = ReadSafetensors(interrupted.output_dir + "/optimizer.safetensors");
  ASSERT_TRUE(sa.ok() && sb.ok());
  for (const auto& [name, tensor] : *sa) {
    EXPECT_TRUE(at::allclose(tensor.to(at::kDouble), sb->at(name).to(at::kDouble), 1e-6, 1e-7))
        << name;
  }
}

TEST_F(PretrainTest, ReportsBadInputs) {
  PretrainOptions o = TinyOptions("pretrain_bad");
  o.train_files = corpus_ + "/missing/*.txt";
  EXPECT_FALSE(RunPretrain(o).ok());
  o = TinyOptions("pretrain_bad");
  o.num_key_value_heads = 3;
  EXPECT_FALSE(RunPretrain(o).ok());
  o = TinyOptions("pretrain_bad");
  o.seq_len = 1 << 20;  // longer than any stream
  EXPECT_FALSE(RunPretrain(o).ok());
}

}  // namespace
}  // namespace zett
