#include "core/model/xlm_roberta.h"

#include <c10/core/GradMode.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/model/backbone.h"
#include "core/model/state_dict.h"

namespace zett {
namespace {

using ::testing::HasSubstr;

constexpr int64_t kPad = 1;

EncoderConfig TinyConfig(bool tied = true) {
  EncoderConfig c;
  c.vocab_size = 40;
  c.hidden_size = 32;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.intermediate_size = 64;
  c.max_position_embeddings = 20;
  c.type_vocab_size = 1;
  c.layer_norm_eps = 1e-5;
  c.pad_token_id = kPad;
  c.tie_word_embeddings = tied;
  return c;
}

XLMRobertaForMaskedLM MakeModel(const EncoderConfig& config, uint64_t seed = 1) {
  at::manual_seed(seed);
  XLMRobertaForMaskedLM model(config);
  model->InitWeights();
  c10::NoGradGuard no_grad;
  for (auto& p : model->parameters()) {
    if (p.dim() > 1) p.normal_(0.0, 0.3);
  }
  model->OutputBias().normal_(0.0, 0.1);
  return model;
}

at::Tensor Ids(std::vector<int64_t> ids) { return at::tensor(ids, at::kLong).view({1, -1}); }

TEST(XlmRobertaTest, ParametersCarryHuggingFaceNames) {
  auto params = MakeModel(TinyConfig())->named_parameters();
  for (const char* name :
       {"roberta.embeddings.word_embeddings.weight",
        "roberta.embeddings.position_embeddings.weight",
        "roberta.embeddings.token_type_embeddings.weight", "roberta.embeddings.LayerNorm.weight",
        "roberta.encoder.layer.1.attention.self.query.weight",
        "roberta.encoder.layer.1.attention.self.value.bias",
        "roberta.encoder.layer.0.attention.output.dense.weight",
        "roberta.encoder.layer.0.attention.output.LayerNorm.bias",
        "roberta.encoder.layer.0.intermediate.dense.weight",
        "roberta.encoder.layer.0.output.dense.weight",
        "roberta.encoder.layer.0.output.LayerNorm.weight", "lm_head.dense.weight",
        "lm_head.layer_norm.weight", "lm_head.bias"}) {
    EXPECT_TRUE(params.contains(name)) << name;
  }
  EXPECT_FALSE(params.contains("lm_head.decoder.weight"));  // tied
  auto untied = MakeModel(TinyConfig(/*tied=*/false))->named_parameters();
  EXPECT_TRUE(untied.contains("lm_head.decoder.weight"));
  EXPECT_TRUE(untied.contains("lm_head.decoder.bias"));  // what transformers' untied head adds
  EXPECT_FALSE(untied.contains("lm_head.bias"));
}

TEST(XlmRobertaTest, ForwardAndBackwardOnCpu) {
  auto model = MakeModel(TinyConfig());
  auto ids = at::randint(3, 40, {2, 6}, at::kLong);
  EncoderInputs in;
  in.input_ids = ids;
  auto logits = model(in);
  ASSERT_EQ(logits.sizes(), (std::vector<int64_t>{2, 6, 40}));
  at::cross_entropy_loss(logits.reshape({-1, 40}), ids.reshape({-1})).backward();
  for (const auto& item : model->named_parameters()) {
    ASSERT_TRUE(item.value().grad().defined()) << item.key();
  }
  // Bidirectional: a later token changes earlier logits.
  auto other = ids.clone();
  other[0][5] = ids[0][5].item<int64_t>() == 5 ? 6 : 5;
  in.input_ids = other;
  EXPECT_GT((model(in)[0][0] - logits[0][0]).abs().max().item<double>(), 1e-4);
}

// Padding on either side must not change the real tokens' logits: padding is masked as keys and
// positions count real tokens only, starting at pad_token_id + 1.
TEST(XlmRobertaTest, PaddingIsMaskedAndSkippedByPositions) {
  auto model = MakeModel(TinyConfig());
  EncoderInputs plain;
  plain.input_ids = Ids({0, 7, 8, 9, 2});
  auto reference = model(plain);

  EncoderInputs right;
  right.input_ids = Ids({0, 7, 8, 9, 2, kPad, kPad});
  right.attention_mask = right.input_ids.ne(kPad);
  EXPECT_TRUE(at::allclose(model(right).narrow(1, 0, 5), reference, 1e-5, 1e-5));

  EncoderInputs left;
  left.input_ids = Ids({kPad, kPad, 0, 7, 8, 9, 2});
  left.attention_mask = left.input_ids.ne(kPad);
  EXPECT_TRUE(at::allclose(model(left).narrow(1, 2, 5), reference, 1e-5, 1e-5));

  // Without the mask, padding is attended to and the result differs.
  EncoderInputs unmasked;
  unmasked.input_ids = right.input_ids;
  EXPECT_GT((model(unmasked).narrow(1, 0, 5) - reference).abs().max().item<double>(), 1e-4);
}

TEST(XlmRobertaTest, SuppliedEmbeddingsMatchTheOwnTablesAndReceiveGradients) {
  auto model = MakeModel(TinyConfig());
  for (auto& p : model->parameters()) p.set_requires_grad(false);
  auto ids = Ids({0, 7, 8, 9, 2});
  EncoderInputs in;
  in.input_ids = ids;
  auto reference = model(in);

  auto table = model->InputEmbeddings().detach().clone().set_requires_grad(true);
  auto bias = model->OutputBias().detach().clone().set_requires_grad(true);
  in.input_embeddings = table;
  in.lm_head_weight = table;  // tied: the same supplied matrix on both sides
  in.lm_head_bias = bias;
  auto logits = model(in);
  EXPECT_TRUE(at::allclose(logits, reference, 1e-6, 1e-6));
  logits.logsumexp(-1).sum().backward();
  EXPECT_GT(table.grad().abs().sum().item<double>(), 0);
  EXPECT_GT(bias.grad().abs().sum().item<double>(), 0);

  EncoderInputs embeds;
  embeds.inputs_embeds = at::embedding(model->InputEmbeddings(), ids);
  EXPECT_TRUE(at::allclose(model(embeds), reference, 1e-6, 1e-6));
}

TEST(XlmRobertaTest, UntiedHeadUsesTheDecoderWeightAndBias) {
  auto model = MakeModel(TinyConfig(/*tied=*/false));
  EncoderInputs in;
  in.input_ids = Ids({0, 7, 8, 9, 2});
  auto logits = model(in);
  auto h = model->HiddenStates(in);
  auto head = model->lm_head;
  auto expected = at::linear(head->layer_norm(at::gelu(head->dense(h))), head->decoder->weight,
                             head->decoder->bias);
  EXPECT_TRUE(at::allclose(logits, expected, 1e-6, 1e-6));
  EXPECT_FALSE(model->OutputEmbeddings().is_same(model->InputEmbeddings()));
  // A checkpoint that stores the bias as lm_head.bias still loads.
  TensorMap weights = StateDict(*model, at::kFloat);
  weights["lm_head.bias"] = weights["lm_head.decoder.bias"];
  weights.erase("lm_head.decoder.bias");
  auto loaded = MakeEncoder(TinyConfig(false), weights, {});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(at::allclose((*loaded)(in), logits, 1e-6, 1e-6));
}

TEST(XlmRobertaTest, Bfloat16IsCloseToFloat32) {
  auto model = MakeModel(TinyConfig());
  EncoderInputs in;
  in.input_ids = Ids({0, 7, 8, 9, 10, 11, 2});
  auto fp32 = model(in);
  model->to(at::kBFloat16);
  auto bf16 = model(in).to(at::kFloat);
  EXPECT_LT(((bf16 - fp32).abs().max() / fp32.abs().max()).item<double>(), 0.05);
}

TEST(XlmRobertaTest, LoadsDecoderBiasNameAndNamesMissingWeights) {
  auto model = MakeModel(TinyConfig());
  TensorMap weights = StateDict(*model, at::kFloat);
  weights["lm_head.decoder.bias"] = weights["lm_head.bias"];
  weights.erase("lm_head.bias");
  weights["roberta.pooler.dense.weight"] = at::zeros({32, 32});  // ignored
  auto loaded = MakeEncoder(TinyConfig(), weights, {});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(at::equal((*loaded)->OutputBias(), model->OutputBias()));

  weights.erase("roberta.encoder.layer.1.output.LayerNorm.bias");
  auto status = MakeEncoder(TinyConfig(), weights, {}, "xlmr.safetensors").status();
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("roberta.encoder.layer.1.output.LayerNorm.bias"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("xlmr.safetensors"));
}

}  // namespace
}  // namespace zett
