#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/hypernet/config.h"

namespace zett {
namespace {

// The fields of a published hypernet's config.json (benjamin/zett-hypernetwork-xlm-roberta-base
// as the ZeTT paper's published checkpoints have them: H 768, I 1536, 12 heads, 3 layers, maxlen 7, 161 extra
// tokens, 26 languages, tied), with HF PretrainedConfig keys beside them.
nlohmann::json PublishedStyleConfig() {
  return {
      {"architectures", {"ZettHypernet"}},
      {"auto_map",
       {{"AutoConfig", "configuration_hypernet.ZettHypernetConfig"},
        {"AutoModel", "modeling_hypernet.ZettHypernet"}}},
      {"model_type", "zett_hypernetwork"},
      {"torch_dtype", "float32"},
      {"transformers_version", "4.45.2"},
      {"hn_model_name_or_path", "roberta-base"},
      {"hn_model_type", "roberta"},
      {"hn_surface_maxlen", 7},
      {"hn_n_layers", 3},
      {"n_embd", 768},
      {"hn_hidden_size", 768},
      {"hn_intermediate_size", 1536},
      {"hn_num_attention_heads", nullptr},
      {"hn_rescale_embeddings", true},
      {"hn_embed_target_priors", false},
      {"hn_add_inter_token_attention", false},
      {"hn_inter_token_attention_bias_by_priors", true},
      {"hn_inter_token_attention_bias_scaler", 1.0},
      {"hn_n_inter_token_blocks", 16},
      {"hn_embed_using_source_embeddings", true},
      {"hn_concat_last_hidden_state", false},
      {"hn_single_head", false},
      {"hn_predict_bias", true},
      {"hn_embed_lang_id", true},
      {"n_langs", 26},
      {"original_vocab_size", 250002},
      {"pad_token_id", 1},
      {"separate_out_embeddings", false},
      {"hn_n_extra_tokens", 161},
  };
}

TEST(HypernetConfig, ParsesPublishedFields) {
  auto config = HypernetConfigFromJson(PublishedStyleConfig());
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->hn_surface_maxlen, 7);
  EXPECT_EQ(config->hidden_size(), 768);
  EXPECT_EQ(config->intermediate_size(), 1536);
  EXPECT_EQ(config->num_attention_heads(), 768 / 64);  // null: H / 64
  EXPECT_TRUE(config->hn_rescale_embeddings);
  EXPECT_TRUE(config->hn_predict_bias);
  EXPECT_TRUE(config->hn_embed_lang_id);
  EXPECT_EQ(config->n_lang_rows(), 26);
  EXPECT_EQ(config->original_vocab_size, 250002);
  EXPECT_EQ(config->pad_token_id, 1);
  EXPECT_FALSE(config->separate_out_embeddings);
  EXPECT_EQ(config->source_embedding_dim(), 768);
  EXPECT_EQ(config->fallback_rows(), 161);
  EXPECT_FALSE(config->hn_residual);
  EXPECT_TRUE(config->extra.contains("auto_map"));
  EXPECT_FALSE(config->extra.contains("hn_surface_maxlen"));
}

TEST(HypernetConfig, DefaultsFollowZettConfigClass) {
  // Only the fields zett's code cannot run without; the rest take the class defaults.
  auto config = HypernetConfigFromJson({{"hn_embed_using_source_embeddings", true},
                                        {"original_vocab_size", 100},
                                        {"pad_token_id", 0}});
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->hn_surface_maxlen, 16);
  EXPECT_EQ(config->hn_n_layers, 3);
  EXPECT_EQ(config->n_embd, 768);
  EXPECT_EQ(config->hidden_size(), config->n_embd);
  EXPECT_EQ(config->intermediate_size(), 2 * config->hidden_size());
  EXPECT_TRUE(config->hn_predict_bias);
  EXPECT_FALSE(config->hn_rescale_embeddings);
  EXPECT_EQ(config->fallback_rows(), 1);  // zett allocates at least one fallback row
}

TEST(HypernetConfig, JsonRoundTripKeepsEveryField) {
  auto config = HypernetConfigFromJson(PublishedStyleConfig());
  ASSERT_TRUE(config.ok());
  config->hn_residual = true;
  config->hn_residual_alpha = 0.5;
  config->langs = std::vector<std::string>(26, "xx");
  const nlohmann::json written = HypernetConfigToJson(*config);
  auto again = HypernetConfigFromJson(written);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(HypernetConfigToJson(*again), written);
  EXPECT_TRUE(again->hn_residual);
  EXPECT_DOUBLE_EQ(again->hn_residual_alpha, 0.5);
  // Every published key comes back with its value (model_type is rewritten to the same).
  const nlohmann::json published = PublishedStyleConfig();
  for (const auto& [key, value] : published.items()) {
    ASSERT_TRUE(written.contains(key)) << key;
    EXPECT_EQ(written[key], value) << key;
  }
}

TEST(HypernetConfig, FileRoundTrip) {
  const std::string dir = ::testing::TempDir();
  const std::string path = (std::filesystem::path(dir) / "hypernet_config_test.json").string();
  auto config = HypernetConfigFromJson(PublishedStyleConfig());
  ASSERT_TRUE(config.ok());
  ASSERT_TRUE(WriteHypernetConfig(path, *config).ok());
  auto read = ReadHypernetConfig(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(HypernetConfigToJson(*read), HypernetConfigToJson(*config));
}

struct Rejection {
  const char* field;
  nlohmann::json value;
};

class HypernetConfigRejects : public ::testing::TestWithParam<Rejection> {};

TEST_P(HypernetConfigRejects, NamesTheField) {
  nlohmann::json json = PublishedStyleConfig();
  json[GetParam().field] = GetParam().value;
  auto config = HypernetConfigFromJson(json);
  ASSERT_FALSE(config.ok()) << GetParam().field;
  EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(config.status().message().find(GetParam().field), std::string::npos) << config.status();
}

INSTANTIATE_TEST_SUITE_P(
    UnsupportedOrInvalid, HypernetConfigRejects,
    ::testing::Values(Rejection{"hn_model_type", "t5"},
                      Rejection{"hn_model_name_or_path", "bert-base-uncased"},
                      Rejection{"hn_embed_target_priors", true},
                      Rejection{"hn_add_inter_token_attention", true},
                      Rejection{"hn_concat_last_hidden_state", true},
                      Rejection{"hn_embed_using_source_embeddings", false},
                      Rejection{"hn_num_attention_heads", 7},     // does not divide 768
                      Rejection{"hn_surface_maxlen", 600},        // beyond 514 positions
                      Rejection{"hn_surface_maxlen", "7"},        // wrong type
                      Rejection{"original_vocab_size", nullptr},  // required
                      Rejection{"pad_token_id", nullptr},         // required
                      Rejection{"n_langs", nullptr},              // required with hn_embed_lang_id
                      Rejection{"hn_predict_bias", 1}));

}  // namespace
}  // namespace zett
