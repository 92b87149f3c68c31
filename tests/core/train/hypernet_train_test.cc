#include "core/train/hypernet_train.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/compat/torch_compat.h"
#include "core/hypernet/checkpoint.h"
#include "core/io/json_file.h"
#include "core/io/safetensors.h"
#include "core/tokenizer/sentencepiece_model.h"
#include "core/train/pretrain.h"
#include "core/train/tokenizer_sampler.h"
#include "core/train/zett_batch.h"
#include "core/train/zett_loss.h"
#include "tests/core/train/tiny_corpus.h"

namespace zett {
namespace {

namespace fs = std::filesystem;

TEST(AuxiliaryLoss, MaskedSquaredErrorNormalisedByCountAndOriginalNorm) {
  // d = 2, untied: source rows are [E_in | E_out].
  const at::Tensor source = at::tensor({0.f, 0.f, 0.f, 0.f,   //
                                        3.f, 4.f, 0.f, 5.f,   // |in| = 5, |out| = 5
                                        9.f, 9.f, 9.f, 9.f,   //
                                        6.f, 8.f, 5.f, 0.f})  // |in| = 10, |out| = 5
                                .reshape({4, 4});
  HypernetOutput predicted;
  // Rows 0 and 2 decompose to the single original ids 1 and 3; row 1 is not masked, so its
  // large error must not count.
  predicted.embeddings_in = at::tensor({3.f, 4.f, 100.f, 100.f, 6.f, 5.f}).reshape({3, 2});
  predicted.embeddings_out = at::tensor({0.f, 3.f, -100.f, 7.f, 5.f, 1.f}).reshape({3, 2});
  const at::Tensor aux_source = at::tensor({1, -1, 3}, at::kLong);
  // in: (0 + 9) / 2 / mean(5, 10) = 0.6;  out: (4 + 1) / 2 / mean(5, 5) = 0.5;  mean 0.55.
  EXPECT_NEAR(AuxiliaryLoss(predicted, aux_source, source).item<double>(), 0.55, 1e-6);
  // Tied (no output embeddings): the input term alone.
  HypernetOutput tied;
  tied.embeddings_in = predicted.embeddings_in;
  EXPECT_NEAR(AuxiliaryLoss(tied, aux_source, source).item<double>(), 0.6, 1e-6);
  // Nothing masked: zero, not NaN.
  EXPECT_EQ(AuxiliaryLoss(predicted, at::full({3}, -1, at::kLong), source).item<double>(), 0.0);
}

class HypernetTrainTest : public ::testing::Test {
 protected:
  // The tiny corpus and a tiny random-ish Llama base LM pretrained on it for a few steps.
  static void SetUpTestSuite() {
    corpus_ = new std::string((fs::path(::testing::TempDir()) / "hn_train_corpus").string());
    base_ = new std::string(*corpus_ + "/base");
    fs::remove_all(*corpus_);
    ASSERT_EQ(MakeTinyCorpus(*corpus_), "");
    PretrainOptions p;
    p.train_files = *corpus_ + "/train/*.txt";
    p.tokenizer_dir = *corpus_ + "/tokenizer";
    p.output_dir = *base_;
    p.hidden_size = 16;
    p.num_hidden_layers = 1;
    p.num_attention_heads = 2;
    p.num_key_value_heads = 1;
    p.intermediate_size = 32;
    p.steps = 20;
    p.batch_size = 8;
    p.seq_len = 32;
    p.lr = 1e-2;
    p.warmup_steps = 2;
    p.log_every = 10;
    p.save_every = 20;
    p.save_dtype = "float32";
    p.token_cache_dir = "";
    p.device = "cpu";
    p.dtype = "float32";
    ASSERT_TRUE(RunPretrain(p).ok());
  }
  static void TearDownTestSuite() {
    delete corpus_;
    delete base_;
  }

  static HypernetTrainOptions Options(const std::string& name) {
    HypernetTrainOptions o;
    o.base_dir = *base_;
    o.train_files = *corpus_ + "/train/*.txt";
    o.valid_files = *corpus_ + "/valid/*.txt";
    o.output_dir = (fs::path(::testing::TempDir()) / name).string();
    fs::remove_all(o.output_dir);
    o.hn_n_layers = 1;
    o.hn_surface_maxlen = 4;
    o.hn_num_attention_heads = 2;
    o.sample_vocab_size = 600;
    o.sampler_queue_batches = 4;
    o.steps = 30;
    o.batch_size = 4;
    o.seq_len = 24;
    o.text_bytes = 80;
    o.lr = 3e-3;
    o.warmup_steps = 3;
    o.log_every = 5;
    o.eval_every = 15;
    o.save_every = 15;
    o.valid_tokenizers = 1;
    o.valid_texts_per_language = 2;
    o.device = "cpu";
    o.dtype = "float32";
    return o;
  }

  static nlohmann::json State(const std::string& dir) {
    auto state = ReadJsonFile(dir + "/trainer_state.json");
    EXPECT_TRUE(state.ok()) << state.status();
    return state.ok() ? *state : nlohmann::json();
  }

  static std::string* corpus_;
  static std::string* base_;
};
std::string* HypernetTrainTest::corpus_ = nullptr;
std::string* HypernetTrainTest::base_ = nullptr;

TEST_F(HypernetTrainTest, AFewStepsReduceTheLossAndWriteACheckpoint) {
  HypernetTrainOptions o = Options("hn_train_loss");
  const absl::Status status = RunHypernetTrain(o);
  ASSERT_TRUE(status.ok()) << status;
  const auto state = State(o.output_dir);
  EXPECT_EQ(state["step"], 30);
  const auto& train = state["history"]["train"];
  ASSERT_EQ(train.size(), 6u);
  EXPECT_LT(train.back()["loss"].get<double>(), train.front()["loss"].get<double>());
  EXPECT_LT(train.back()["lm_loss"].get<double>(), train.front()["lm_loss"].get<double>());
  const auto& valid = state["history"]["valid"];
  ASSERT_EQ(valid.size(), 2u);
  EXPECT_GT(valid[0]["bits_per_byte"].get<double>(), 0);
  for (const char* file : {"config.json", "model.safetensors", "optimizer.safetensors",
                           "sampler_state.txt", "loss_curve.png"}) {
    EXPECT_TRUE(fs::exists(o.output_dir + "/" + file)) << file;
  }
  int events = 0;  // TensorBoard event files
  for (const auto& entry : fs::directory_iterator(o.output_dir)) {
    events += entry.path().filename().string().rfind("events.out.tfevents.", 0) == 0;
  }
  EXPECT_EQ(events, 1);
  auto hypernet = LoadHypernet(o.output_dir);
  ASSERT_TRUE(hypernet.ok()) << hypernet.status();
  EXPECT_TRUE(hypernet->config().hn_residual);
  EXPECT_EQ(hypernet->config().n_embd, 16);
  EXPECT_EQ(hypernet->config().pad_token_id, 2);
}

TEST_F(HypernetTrainTest, SpecialTokenRowsEqualTheOriginalRows) {
  std::ifstream in(*corpus_ + "/tokenizer/tokenizer.model", std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  auto original = tokenizer::LoadSentencePieceModel(bytes.str());
  ASSERT_TRUE(original.ok());
  ZettBatchOptions bo;
  bo.max_len = 4;
  auto builder = ZettBatchBuilder::Create(**original, 1, 2, bo);
  ASSERT_TRUE(builder.ok());
  const std::vector<std::string> texts = {"the big cat sat.", "этот кот сидел."};
  TokenizerSamplerOptions so;
  so.vocab_size = 600;
  auto sampler = TokenizerSampler::Create(so, 1);
  auto sampled = (*sampler)->PushAndSample(texts);
  ASSERT_TRUE(sampled.ok());
  auto batch = (*builder)->Build(texts, *sampled);
  ASSERT_TRUE(batch.ok());
  const at::Tensor special = batch->row_source >= 0;
  const auto specials =
      static_cast<int64_t>((*builder)->decomposer().original_vocabulary().special_tokens.size());
  ASSERT_EQ(special.sum().item<int64_t>(), specials);  // every special token, the pad one too

  const auto& vocab = (*builder)->decomposer().original_vocabulary();
  ZettHypernetConfig c;
  c.hn_surface_maxlen = 4;
  c.hn_n_layers = 1;
  c.n_embd = 8;
  c.hn_num_attention_heads = 2;
  c.hn_rescale_embeddings = true;
  c.hn_embed_using_source_embeddings = true;
  c.hn_predict_bias = false;
  c.original_vocab_size = vocab.original_size;
  c.pad_token_id = 2;
  c.separate_out_embeddings = true;
  c.hn_n_extra_tokens = static_cast<int64_t>(vocab.surface_forms.size()) - vocab.original_size;
  auto hypernet = Hypernet::Create(c, 3);
  ASSERT_TRUE(hypernet.ok()) << hypernet.status();
  const at::Tensor source = at::randn({vocab.original_size, 16});
  const HypernetOutput out = PredictRows(*hypernet, batch->surface_forms.to(at::kLong),
                                         batch->row_source, source, at::kFloat);
  EXPECT_EQ(out.embeddings_in.size(0), batch->surface_forms.size(0));
  for (int64_t r = 0; r < batch->surface_forms.size(0); ++r) {
    const int64_t s = batch->row_source[r].item<int64_t>();
    if (s < 0) continue;
    EXPECT_TRUE(out.embeddings_in[r].equal(source[s].narrow(0, 0, 8)));
    EXPECT_TRUE(out.embeddings_out[r].equal(source[s].narrow(0, 8, 8)));
  }
  // Other rows are predictions, not copies.
  EXPECT_FALSE(out.embeddings_in[0].equal(out.embeddings_in[1]));
}

// Several data workers (each with its own sampler) and identity steps, interrupted and resumed:
// the same parameters as the uninterrupted run.
TEST_F(HypernetTrainTest, ResumingGivesTheParametersOfAnUninterruptedRun) {
  // A MIMICK stage of 3 steps, then the main stage; the interruption is inside the main stage.
  HypernetTrainOptions full = Options("hn_train_full");
  full.data_workers = 3;
  full.identity_every = 3;
  full.steps = 8;
  full.save_every = 4;
  full.eval_every = 100;
  full.mimick_steps = 3;
  full.mimick_tokens = 32;
  full.residual = false;
  ASSERT_TRUE(RunHypernetTrain(full).ok());

  HypernetTrainOptions split = full;
  split.output_dir = (fs::path(::testing::TempDir()) / "hn_train_split").string();
  fs::remove_all(split.output_dir);
  split.stop_after = 4;
  ASSERT_TRUE(RunHypernetTrain(split).ok());
  EXPECT_EQ(State(split.output_dir)["step"], 4);
  split.stop_after = 0;
  ASSERT_TRUE(RunHypernetTrain(split).ok());
  EXPECT_EQ(State(split.output_dir)["step"], 8);

  auto a = ReadSafetensors(full.output_dir + "/model.safetensors");
  auto b = ReadSafetensors(split.output_dir + "/model.safetensors");
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->size(), b->size());
  for (const auto& [name, tensor] : *a) {
    ASSERT_TRUE(b->count(name)) << name;
    EXPECT_TRUE(tensor.equal(b->at(name))) << name;
  }
  // And training did change the parameters.
  auto start = Hypernet::Create((*LoadHypernet(full.output_dir)).config(), full.seed);
  ASSERT_TRUE(start.ok());
  EXPECT_FALSE(start->StateDict()
                   .at("output_projection.1.weight")
                   .equal(a->at("output_projection.1.weight")));
  // The saved sampler states are equivalent: restored, they sample the same next tokenizer
  // (the text differs in hash-map order, so compare behaviour, not bytes).
  std::vector<std::vector<std::string>> next;
  for (const auto& dir : {full.output_dir, split.output_dir}) {
    TokenizerSamplerOptions so;
    so.vocab_size = full.sample_vocab_size;
    so.queue_batches = full.sampler_queue_batches;
    auto sampler = TokenizerSampler::Create(so, 99);
    ASSERT_TRUE(sampler.ok());
    ASSERT_TRUE(
        (*sampler)->RestoreState(ReadFileToString(dir + "/sampler_state.txt").value()).ok());
    auto sampled = (*sampler)->PushAndSample({"the red bird sat near the tree."});
    ASSERT_TRUE(sampled.ok());
    next.push_back(sampled->pieces);
  }
  EXPECT_EQ(next[0], next[1]);
}

TEST_F(HypernetTrainTest, InitHypernetStartsFromTheCheckpointsWeights) {
  HypernetTrainOptions source = Options("hn_init_source");
  source.steps = 4;
  source.eval_every = 100;
  ASSERT_TRUE(RunHypernetTrain(source).ok());

  // With lr 0 the run keeps exactly the weights it started from: the checkpoint's, rescalers
  // included (a new hypernetwork would differ in every tensor).
  HypernetTrainOptions init = Options("hn_init_target");
  init.init_hypernet = source.output_dir;
  init.steps = 2;
  init.lr = 0;
  init.eval_every = 100;
  const absl::Status status = RunHypernetTrain(init);
  ASSERT_TRUE(status.ok()) << status;
  auto a = ReadSafetensors(source.output_dir + "/model.safetensors");
  auto b = ReadSafetensors(init.output_dir + "/model.safetensors");
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->size(), b->size());
  for (const auto& [name, tensor] : *a) {
    ASSERT_TRUE(b->count(name)) << name;
    EXPECT_TRUE(tensor.equal(b->at(name))) << name;
  }
  EXPECT_EQ(State(init.output_dir)["options"]["init_hypernet"], source.output_dir);
}

TEST_F(HypernetTrainTest, InitHypernetOfAnotherWidthIsRefused) {
  HypernetTrainOptions source = Options("hn_init_wide_source");
  source.steps = 1;
  source.eval_every = 100;
  ASSERT_TRUE(RunHypernetTrain(source).ok());
  auto hypernet = LoadHypernet(source.output_dir);
  ASSERT_TRUE(hypernet.ok()) << hypernet.status();
  ZettHypernetConfig wide = hypernet->config();
  wide.n_embd = 32;  // the base is 16 wide
  auto other = Hypernet::Create(wide, 0);
  ASSERT_TRUE(other.ok()) << other.status();
  const std::string dir = (fs::path(::testing::TempDir()) / "hn_init_wide").string();
  fs::remove_all(dir);
  const absl::Status saved = SaveHypernet(dir, *other);
  ASSERT_TRUE(saved.ok()) << saved;

  HypernetTrainOptions init = Options("hn_init_wide_target");
  init.init_hypernet = dir;
  init.steps = 1;
  const absl::Status status = RunHypernetTrain(init);
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("n_embd 32 != the base's 16"));
}

// On CUDA the step is captured and replayed as CUDA graphs: the same run eagerly must end with
// the same parameters (up to the order of floating-point reductions), with the hypernetwork
// computing in fp32 and in bf16 (fp32 masters either way).
TEST_F(HypernetTrainTest, CudaGraphStepsMatchEagerSteps) {
  if (!CudaAvailable()) GTEST_SKIP() << "no CUDA device";
  for (const std::string hypernet_dtype : {"float32", "bfloat16"}) {
    std::map<std::string, at::Tensor> results[2];
    for (int graph = 0; graph < 2; ++graph) {
      HypernetTrainOptions o =
          Options((graph ? "hn_train_graph_" : "hn_train_eager_") + hypernet_dtype);
      o.device = "cuda";
      o.cuda_graph = graph == 1;
      o.hypernet_dtype = hypernet_dtype;
      o.steps = 12;  // 3 eager warm-up steps, the capture, then replays
      o.identity_every = 4;
      o.data_workers = 2;
      o.eval_every = 100;
      o.save_every = 12;
      const absl::Status status = RunHypernetTrain(o);
      ASSERT_TRUE(status.ok()) << status;
      auto tensors = ReadSafetensors(o.output_dir + "/model.safetensors");
      ASSERT_TRUE(tensors.ok()) << tensors.status();
      for (auto& [name, t] : *tensors) {
        EXPECT_EQ(t.scalar_type(), at::kFloat) << name << ": the masters stay fp32";
        results[graph][name] = t.to(at::kFloat);
      }
    }
    ASSERT_EQ(results[0].size(), results[1].size());
    // Against the parameter's size, or one AdamW update (lr) for parameters still near zero:
    // Adam turns a rounding-level gradient difference into an update-sized one there.
    const double tolerance = hypernet_dtype == "float32" ? 1e-3 : 2e-2;
    const double lr = Options("unused").lr;
    for (const auto& [name, eager] : results[0]) {
      const at::Tensor& graph = results[1].at(name);
      const double scale = std::max(lr, eager.abs().max().item<double>());
      EXPECT_LT((graph - eager).abs().max().item<double>() / scale, tolerance)
          << hypernet_dtype << " " << name;
    }
  }
}

}  // namespace
}  // namespace zett
