#include "core/model/llama.h"

#include <c10/core/GradMode.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/compat/torch_compat.h"
#include "core/model/backbone.h"
#include "core/model/state_dict.h"

namespace zett {
namespace {

using ::testing::HasSubstr;

DecoderConfig TinyConfig(int64_t kv_heads = 2, bool tied = false) {
  DecoderConfig c;
  c.vocab_size = 50;
  c.hidden_size = 32;
  c.intermediate_size = 48;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = kv_heads;
  c.head_dim = 8;
  c.rms_norm_eps = 1e-5;
  c.tie_word_embeddings = tied;
  c.sliding_window_per_layer = {0, 0};
  return c;
}

LlamaForCausalLM MakeModel(const DecoderConfig& config, uint64_t seed = 1) {
  at::manual_seed(seed);
  LlamaForCausalLM model(config);
  model->InitWeights();
  // Larger than the 0.02 init so that every layer visibly changes the logits.
  c10::NoGradGuard no_grad;
  for (auto& p : model->parameters()) {
    if (p.dim() > 1) p.normal_(0.0, 0.3);
  }
  return model;
}

at::Tensor Ids(std::vector<int64_t> ids, int64_t batch = 1) {
  return at::tensor(ids, at::kLong).view({1, -1}).repeat({batch, 1});
}

at::Tensor Logits(LlamaForCausalLM& model, const at::Tensor& ids) {
  DecoderInputs in;
  in.input_ids = ids;
  return model(in);
}

double MaxRelativeError(const at::Tensor& a, const at::Tensor& b) {
  auto a32 = a.to(at::kFloat), b32 = b.to(at::kFloat);
  return ((a32 - b32).abs().max() / b32.abs().max()).item<double>();
}

TEST(LlamaTest, ParametersCarryHuggingFaceNames) {
  auto names = MakeModel(TinyConfig())->named_parameters().keys();
  std::set<std::string> set(names.begin(), names.end());
  for (const char* name :
       {"model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight",
        "model.layers.1.self_attn.k_proj.weight", "model.layers.1.self_attn.v_proj.weight",
        "model.layers.1.self_attn.o_proj.weight", "model.layers.0.mlp.gate_proj.weight",
        "model.layers.0.mlp.up_proj.weight", "model.layers.0.mlp.down_proj.weight",
        "model.layers.0.input_layernorm.weight", "model.layers.0.post_attention_layernorm.weight",
        "model.norm.weight", "lm_head.weight"}) {
    EXPECT_TRUE(set.count(name)) << name;
  }
  // 9 per layer, embed, norm, lm_head; no q/k/v biases for Llama.
  EXPECT_EQ(set.size(), 2u * 9 + 3);
  EXPECT_EQ(
      MakeModel(TinyConfig())->named_parameters()["model.layers.0.self_attn.k_proj.weight"].sizes(),
      (std::vector<int64_t>{2 * 8, 32}));
}

TEST(LlamaTest, ForwardAndBackwardOnCpu) {
  auto model = MakeModel(TinyConfig());
  auto ids = at::randint(0, 50, {2, 7}, at::kLong);
  auto logits = Logits(model, ids);
  ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{2, 7, 50}));
  auto loss = at::cross_entropy_loss(logits.reshape({-1, 50}).narrow(0, 0, 13),
                                     ids.reshape({-1}).narrow(0, 1, 13));
  loss.backward();
  for (const auto& item : model->named_parameters()) {
    ASSERT_TRUE(item.value().grad().defined()) << item.key();
    EXPECT_GT(item.value().grad().abs().sum().item<double>(), 0) << item.key();
  }
}

TEST(LlamaTest, FutureTokensDoNotChangePastLogits) {
  auto model = MakeModel(TinyConfig());
  auto a = Logits(model, Ids({3, 14, 15, 9, 26, 5}));
  auto b = Logits(model, Ids({3, 14, 15, 9, 2, 7}));
  EXPECT_TRUE(at::allclose(a.narrow(1, 0, 4), b.narrow(1, 0, 4), 1e-6, 1e-6));
  EXPECT_GT((a.narrow(1, 4, 2) - b.narrow(1, 4, 2)).abs().max().item<double>(), 1e-3);
}

TEST(LlamaTest, SlidingWindowHidesTokensOutsideTheWindow) {
  DecoderConfig config = TinyConfig();
  config.num_hidden_layers = 1;
  config.sliding_window_per_layer = {2};  // query i sees keys i-1 and i
  auto model = MakeModel(config);
  auto a = Logits(model, Ids({3, 14, 15, 9, 26}));
  auto b = Logits(model, Ids({40, 14, 15, 9, 26}));
  EXPECT_GT((a.narrow(1, 1, 1) - b.narrow(1, 1, 1)).abs().max().item<double>(), 1e-3);
  EXPECT_TRUE(at::allclose(a.narrow(1, 2, 3), b.narrow(1, 2, 3), 1e-6, 1e-6));
  // Without the window, token 0 reaches every later position.
  config.sliding_window_per_layer = {0};
  auto full = MakeModel(config);
  auto c = Logits(full, Ids({3, 14, 15, 9, 26}));
  auto d = Logits(full, Ids({40, 14, 15, 9, 26}));
  EXPECT_GT((c.narrow(1, 4, 1) - d.narrow(1, 4, 1)).abs().max().item<double>(), 1e-3);
}

// Query head h must read key/value head h / (H / Hkv): a GQA model equals the MHA model whose
// k/v projections repeat each kv head's rows for the heads of its group.
TEST(LlamaTest, GroupedQueryAttentionSharesKeyValueHeadsByGroup) {
  auto gqa = MakeModel(TinyConfig(/*kv_heads=*/2));
  auto mha = MakeModel(TinyConfig(/*kv_heads=*/4), /*seed=*/2);
  TensorMap weights = StateDict(*gqa, at::kFloat);
  for (int layer = 0; layer < 2; ++layer) {
    for (const char* proj : {"k_proj", "v_proj"}) {
      const std::string name =
          "model.layers." + std::to_string(layer) + ".self_attn." + proj + ".weight";
      // [Hkv·hd, d] → [Hkv, hd, d] → each kv head twice → [H·hd, d]
      weights[name] =
          weights[name].view({2, 8, 32}).repeat_interleave(2, /*dim=*/0).reshape({32, 32});
    }
  }
  ASSERT_TRUE(LoadStateDict(*mha, weights).ok());
  auto ids = Ids({3, 14, 15, 9, 26, 5, 35});
  EXPECT_TRUE(at::allclose(Logits(gqa, ids), Logits(mha, ids), 1e-5, 1e-5));
  // Pairing heads the other way round (h % Hkv) gives different logits.
  TensorMap wrong = StateDict(*gqa, at::kFloat);
  for (int layer = 0; layer < 2; ++layer) {
    for (const char* proj : {"k_proj", "v_proj"}) {
      const std::string name =
          "model.layers." + std::to_string(layer) + ".self_attn." + proj + ".weight";
      wrong[name] = wrong[name].view({2, 8, 32}).repeat({2, 1, 1}).reshape({32, 32});
    }
  }
  ASSERT_TRUE(LoadStateDict(*mha, wrong).ok());
  EXPECT_GT(MaxRelativeError(Logits(mha, ids), Logits(gqa, ids)), 1e-3);
}

TEST(LlamaTest, TiedModelReadsOutputsFromTheInputTable) {
  auto tied = MakeModel(TinyConfig(2, /*tied=*/true));
  EXPECT_FALSE(tied->named_parameters().contains("lm_head.weight"));
  EXPECT_TRUE(tied->OutputEmbeddings().is_same(tied->InputEmbeddings()));
  auto untied = MakeModel(TinyConfig(2, /*tied=*/false));
  TensorMap weights = StateDict(*tied, at::kFloat);
  weights["lm_head.weight"] = weights["model.embed_tokens.weight"];
  ASSERT_TRUE(LoadStateDict(*untied, weights).ok());
  auto ids = Ids({3, 14, 15, 9});
  EXPECT_TRUE(at::allclose(Logits(tied, ids), Logits(untied, ids), 1e-6, 1e-6));
  EXPECT_FALSE(untied->OutputEmbeddings().is_same(untied->InputEmbeddings()));
}

TEST(LlamaTest, SuppliedEmbeddingsMatchTheOwnTablesAndReceiveGradients) {
  auto model = MakeModel(TinyConfig());
  for (auto& p : model->parameters()) p.set_requires_grad(false);  // frozen backbone
  auto ids = Ids({3, 14, 15, 9, 26}, /*batch=*/2);
  auto reference = Logits(model, ids);

  auto input_table = model->InputEmbeddings().detach().clone().set_requires_grad(true);
  auto output_table = model->OutputEmbeddings().detach().clone().set_requires_grad(true);
  DecoderInputs in;
  in.input_ids = ids;
  in.input_embeddings = input_table;
  in.lm_head_weight = output_table;
  auto logits = model(in);
  EXPECT_TRUE(at::allclose(logits, reference, 1e-6, 1e-6));
  logits.logsumexp(-1).sum().backward();
  EXPECT_GT(input_table.grad().abs().sum().item<double>(), 0);
  EXPECT_GT(output_table.grad().abs().sum().item<double>(), 0);
  // Rows of tokens not in the batch get no gradient through the input side.
  EXPECT_EQ(input_table.grad()[0].abs().sum().item<double>(), 0);
  for (const auto& p : model->parameters()) EXPECT_FALSE(p.grad().defined());

  DecoderInputs embeds;
  embeds.inputs_embeds = at::embedding(model->InputEmbeddings(), ids);
  EXPECT_TRUE(at::allclose(model(embeds), reference, 1e-6, 1e-6));

  // A smaller supplied vocabulary (and a bias) changes the logits' width.
  DecoderInputs small;
  small.input_ids = at::randint(0, 10, {1, 4}, at::kLong);
  small.input_embeddings = input_table.narrow(0, 0, 10);
  small.lm_head_weight = output_table.narrow(0, 0, 10);
  small.lm_head_bias = at::ones({10});
  EXPECT_EQ(model(small).sizes(), (std::vector<int64_t>{1, 4, 10}));
}

TEST(LlamaTest, RightPaddingDoesNotChangeRealTokenLogits) {
  auto model = MakeModel(TinyConfig());
  auto plain = Logits(model, Ids({3, 14, 15, 9}));
  DecoderInputs in;
  in.input_ids = Ids({3, 14, 15, 9, 0, 0});
  in.attention_mask = at::tensor({1, 1, 1, 1, 0, 0}, at::kLong).view({1, 6});
  auto padded = model(in);
  EXPECT_TRUE(at::allclose(padded.narrow(1, 0, 4), plain, 1e-5, 1e-5));
  EXPECT_FALSE(at::isnan(padded).any().item<bool>());
}

TEST(LlamaTest, Bfloat16IsCloseToFloat32) {
  auto model = MakeModel(TinyConfig());
  auto ids = Ids({3, 14, 15, 9, 26, 5, 35, 8});
  auto fp32 = Logits(model, ids);
  model->to(at::kBFloat16);
  auto bf16 = Logits(model, ids);
  EXPECT_EQ(bf16.scalar_type(), at::kBFloat16);
  EXPECT_LT(MaxRelativeError(bf16, fp32), 0.05);
}

TEST(LlamaTest, LinearRopeScalingEqualsScaledPositions) {
  DecoderConfig config = TinyConfig();
  config.rope_scaling.type = "linear";
  config.rope_scaling.factor = 2.0;
  auto scaled = MakeModel(config);
  auto plain = MakeModel(TinyConfig());
  ASSERT_TRUE(LoadStateDict(*plain, StateDict(*scaled, at::kFloat)).ok());
  DecoderInputs a;
  a.input_ids = Ids({3, 14, 15, 9});
  auto scaled_logits = scaled(a);
  a.position_ids = at::arange(4, at::kLong) / 2.0;  // fractional positions, as linear scaling
  EXPECT_LT(MaxRelativeError(plain(a), scaled_logits), 1e-5);
  // And differs from the unscaled model on integer positions.
  a.position_ids = at::Tensor();
  EXPECT_GT(MaxRelativeError(plain(a), scaled_logits), 1e-3);
}

TEST(LlamaTest, MissingOrMisshapedWeightsAreNamed) {
  auto model = MakeModel(TinyConfig());
  TensorMap weights = StateDict(*model, at::kFloat);
  weights.erase("model.layers.1.mlp.up_proj.weight");
  auto status = MakeDecoder(TinyConfig(), weights, {}, "test.safetensors").status();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), HasSubstr("model.layers.1.mlp.up_proj.weight"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("test.safetensors"));

  weights = StateDict(*model, at::kFloat);
  weights["model.norm.weight"] = at::ones({31});
  status = MakeDecoder(TinyConfig(), weights, {}, "test.safetensors").status();
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr("model.norm.weight"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("[31]"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("[32]"));
}

TEST(LlamaTest, MakeDecoderLoadsFreezesAndConverts) {
  auto model = MakeModel(TinyConfig());
  TensorMap weights = StateDict(*model, at::kFloat);
  weights["model.layers.0.self_attn.rotary_emb.inv_freq"] = at::ones({4});  // ignored
  BackboneOptions options;
  options.dtype = at::kBFloat16;
  auto loaded = MakeDecoder(TinyConfig(), weights, options);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  for (const auto& p : (*loaded)->parameters()) {
    EXPECT_EQ(p.scalar_type(), at::kBFloat16);
    EXPECT_FALSE(p.requires_grad());
  }
  auto ids = Ids({3, 14, 15, 9});
  EXPECT_LT(MaxRelativeError(Logits(*loaded, ids), Logits(model, ids)), 0.05);
}

TEST(LlamaTest, CudaMatchesCpu) {
  if (!CudaAvailable()) GTEST_SKIP() << "no CUDA device (LibTorch " << TorchVersion() << ")";
  auto model = MakeModel(TinyConfig());
  auto ids = Ids({3, 14, 15, 9, 26}, 2);
  auto cpu = Logits(model, ids);
  model->to(at::kCUDA);
  auto cuda = Logits(model, ids.to(at::kCUDA));
  EXPECT_LT(MaxRelativeError(cuda.cpu(), cpu), 1e-4);
  model->to(at::kBFloat16);
  EXPECT_LT(MaxRelativeError(Logits(model, ids.to(at::kCUDA)).cpu(), cpu), 0.05);
}

}  // namespace
}  // namespace zett
