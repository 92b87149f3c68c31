#include "core/model/hf_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace zett {
namespace {

using json = nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Field names and values as transformers' save_pretrained writes them.
json TinyLlama() {
  return json{{"architectures", {"LlamaForCausalLM"}},
              {"model_type", "llama"},
              {"vocab_size", 96},
              {"hidden_size", 32},
              {"intermediate_size", 64},
              {"num_hidden_layers", 3},
              {"num_attention_heads", 4},
              {"num_key_value_heads", 2},
              {"rms_norm_eps", 1e-5},
              {"rope_theta", 500000.0},
              {"rope_scaling", nullptr},
              {"tie_word_embeddings", false},
              {"bos_token_id", 1},
              {"eos_token_id", 2},
              {"pad_token_id", nullptr},
              {"torch_dtype", "bfloat16"}};
}

TEST(DecoderConfigTest, ParsesLlamaFields) {
  auto config = ParseDecoderConfig(TinyLlama());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->architecture, Architecture::kLlama);
  EXPECT_EQ(config->vocab_size, 96);
  EXPECT_EQ(config->num_key_value_heads, 2);
  EXPECT_EQ(config->head_dim, 32 / 4);  // derived when absent
  EXPECT_DOUBLE_EQ(config->rope_theta, 500000.0);
  EXPECT_EQ(config->rope_scaling.type, "none");
  EXPECT_FALSE(config->attention_bias);
  EXPECT_EQ(config->bos_token_id, 1);
  EXPECT_FALSE(config->pad_token_id.has_value());
  EXPECT_EQ(config->torch_dtype, "bfloat16");
  EXPECT_THAT(config->sliding_window_per_layer, ElementsAre(0, 0, 0));
}

TEST(DecoderConfigTest, KeyValueHeadsDefaultToAttentionHeadsForLlama) {
  json j = TinyLlama();
  j.erase("num_key_value_heads");
  auto config = ParseDecoderConfig(j);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->num_key_value_heads, config->num_attention_heads);
}

TEST(DecoderConfigTest, MistralSlidesEveryLayer) {
  json j = TinyLlama();
  j["architectures"] = {"MistralForCausalLM"};
  j["model_type"] = "mistral";
  j["sliding_window"] = 5;
  auto config = ParseDecoderConfig(j);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_THAT(config->sliding_window_per_layer, ElementsAre(5, 5, 5));
  j["sliding_window"] = nullptr;
  config = ParseDecoderConfig(j);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_THAT(config->sliding_window_per_layer, ElementsAre(0, 0, 0));
}

TEST(DecoderConfigTest, Qwen2HasQkvBiasAndSlidesOnlyUpperLayersWhenAsked) {
  json j = TinyLlama();
  j["architectures"] = {"Qwen2ForCausalLM"};
  j["model_type"] = "qwen2";
  j["sliding_window"] = 4;
  j["max_window_layers"] = 1;
  auto config = ParseDecoderConfig(j);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_TRUE(config->attention_bias);
  EXPECT_FALSE(config->o_proj_bias);
  EXPECT_THAT(config->sliding_window_per_layer, ElementsAre(0, 0, 0));  // use_sliding_window off
  j["use_sliding_window"] = true;
  config = ParseDecoderConfig(j);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_THAT(config->sliding_window_per_layer, ElementsAre(0, 4, 4));
  j["layer_types"] = {"sliding_attention", "full_attention", "full_attention"};
  config = ParseDecoderConfig(j);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_THAT(config->sliding_window_per_layer, ElementsAre(4, 0, 0));
}

TEST(DecoderConfigTest, LinearRopeScalingIsParsedAndOthersAreRejected) {
  json j = TinyLlama();
  j["rope_scaling"] = {{"type", "linear"}, {"factor", 4.0}};
  auto config = ParseDecoderConfig(j);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->rope_scaling.type, "linear");
  EXPECT_DOUBLE_EQ(config->rope_scaling.factor, 4.0);
  j["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
  config = ParseDecoderConfig(j);
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(std::string(config.status().message()), HasSubstr("yarn"));
  EXPECT_THAT(std::string(config.status().message()), HasSubstr("rope_scaling"));
}

TEST(DecoderConfigTest, ReadsTransformers5RopeParameters) {
  json j = TinyLlama();
  j.erase("rope_theta");
  j.erase("rope_scaling");
  j["rope_parameters"] = {{"rope_type", "linear"}, {"factor", 2.0}, {"rope_theta", 1000.0}};
  auto config = ParseDecoderConfig(j);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_DOUBLE_EQ(config->rope_theta, 1000.0);
  EXPECT_EQ(config->rope_scaling.type, "linear");
  j["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 1000.0}};
  config = ParseDecoderConfig(j);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->rope_scaling.type, "none");
}

TEST(DecoderConfigTest, RejectsInconsistentOrMistypedFields) {
  json j = TinyLlama();
  j["num_key_value_heads"] = 3;
  auto config = ParseDecoderConfig(j);
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(std::string(config.status().message()), HasSubstr("num_key_value_heads"));
  j = TinyLlama();
  j["hidden_size"] = "32";
  config = ParseDecoderConfig(j);
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(std::string(config.status().message()), HasSubstr("hidden_size"));
  j = TinyLlama();
  j["architectures"] = {"GPT2LMHeadModel"};
  config = ParseDecoderConfig(j);
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(std::string(config.status().message()), HasSubstr("GPT2LMHeadModel"));
}

TEST(DecoderConfigTest, ToJsonRoundTrips) {
  json j = TinyLlama();
  j["architectures"] = {"Qwen2ForCausalLM"};
  j["model_type"] = "qwen2";
  j["use_sliding_window"] = true;
  j["sliding_window"] = 6;
  j["max_window_layers"] = 2;
  j["tie_word_embeddings"] = true;
  auto config = ParseDecoderConfig(j);
  ASSERT_TRUE(config.ok()) << config.status();
  auto again = ParseDecoderConfig(DecoderConfigToJson(*config));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->architecture, config->architecture);
  EXPECT_EQ(again->sliding_window_per_layer, config->sliding_window_per_layer);
  EXPECT_EQ(again->tie_word_embeddings, true);
  EXPECT_EQ(again->head_dim, config->head_dim);
  EXPECT_EQ(again->num_key_value_heads, config->num_key_value_heads);
}

TEST(EncoderConfigTest, ParsesXlmRobertaFields) {
  json j{{"architectures", {"XLMRobertaForMaskedLM"}},
         {"model_type", "xlm-roberta"},
         {"vocab_size", 100},
         {"hidden_size", 32},
         {"num_hidden_layers", 2},
         {"num_attention_heads", 4},
         {"intermediate_size", 64},
         {"max_position_embeddings", 40},
         {"type_vocab_size", 1},
         {"layer_norm_eps", 1e-5},
         {"pad_token_id", 1}};
  auto config = ParseEncoderConfig(j);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->architecture, Architecture::kXlmRoberta);
  EXPECT_EQ(config->type_vocab_size, 1);
  EXPECT_DOUBLE_EQ(config->layer_norm_eps, 1e-5);
  EXPECT_TRUE(config->tie_word_embeddings);
  EXPECT_EQ(config->pad_token_id, 1);
  j["position_embedding_type"] = "relative_key";
  EXPECT_FALSE(ParseEncoderConfig(j).ok());
  EXPECT_FALSE(ParseDecoderConfig(j).ok());
}

TEST(GenerationConfigTest, EosMayBeAList) {
  auto g = ParseGenerationConfig(json{{"bos_token_id", 1}, {"eos_token_id", {2, 7}}});
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->bos_token_id, 1);
  EXPECT_THAT(g->eos_token_ids, ElementsAre(2, 7));
  auto again = ParseGenerationConfig(GenerationConfigToJson(*g));
  ASSERT_TRUE(again.ok());
  EXPECT_THAT(again->eos_token_ids, ElementsAre(2, 7));
  EXPECT_FALSE(ParseGenerationConfig(json{{"eos_token_id", "x"}}).ok());
}

}  // namespace
}  // namespace zett
