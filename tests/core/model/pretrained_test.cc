#include "core/model/pretrained.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "core/io/json_file.h"
#include "core/io/safetensors.h"

namespace zett {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class PretrainedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  std::string dir() const { return dir_.string(); }
  fs::path dir_;
};

nlohmann::json TinyMistral() {
  return {{"architectures", {"MistralForCausalLM"}},
          {"model_type", "mistral"},
          {"vocab_size", 60},
          {"hidden_size", 32},
          {"intermediate_size", 40},
          {"num_hidden_layers", 2},
          {"num_attention_heads", 4},
          {"num_key_value_heads", 1},
          {"sliding_window", 3},
          {"tie_word_embeddings", false},
          {"torch_dtype", "float32"}};
}

// A checkpoint written the way save_pretrained lays it out loads back to the same logits.
TEST_F(PretrainedTest, LoadsDecoderFolderWrittenFromAModel) {
  auto config = ParseDecoderConfig(TinyMistral());
  ASSERT_TRUE(config.ok()) << config.status();
  at::manual_seed(3);
  LlamaForCausalLM source(*config);
  source->InitWeights();
  ASSERT_TRUE(WriteJsonFile(dir() + "/config.json", TinyMistral()).ok());
  ASSERT_TRUE(WriteSafetensors(dir() + "/model.safetensors", StateDict(*source, at::kFloat)).ok());

  auto loaded = LoadPretrainedBackbone(dir(), {});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->architecture, Architecture::kMistral);
  ASSERT_TRUE(loaded->decoder);
  auto ids = at::randint(0, 60, {2, 9}, at::kLong);
  DecoderInputs in;
  in.input_ids = ids;
  EXPECT_TRUE(at::equal(loaded->Logits(ids, {}), source(in)));
}

TEST_F(PretrainedTest, LoadsEncoderFolder) {
  nlohmann::json j = {{"architectures", {"XLMRobertaForMaskedLM"}},
                      {"vocab_size", 30},
                      {"hidden_size", 16},
                      {"num_hidden_layers", 1},
                      {"num_attention_heads", 2},
                      {"intermediate_size", 32},
                      {"max_position_embeddings", 12},
                      {"type_vocab_size", 1}};
  auto config = ParseEncoderConfig(j);
  ASSERT_TRUE(config.ok());
  XLMRobertaForMaskedLM source(*config);
  source->InitWeights();
  ASSERT_TRUE(WriteJsonFile(dir() + "/config.json", j).ok());
  ASSERT_TRUE(WriteSafetensors(dir() + "/model.safetensors", StateDict(*source, at::kFloat)).ok());
  auto loaded = LoadPretrainedBackbone(dir(), {});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_TRUE(loaded->encoder);
  auto ids = at::tensor({0, 5, 6, 7, 2, 1}, at::kLong).view({1, 6});
  EncoderInputs in;
  in.input_ids = ids;
  in.attention_mask = ids.ne(1);
  EXPECT_TRUE(at::equal(loaded->Logits(ids, ids.ne(1)), source(in)));
}

TEST_F(PretrainedTest, ErrorsNameTheFolderAndTheProblem) {
  auto missing = LoadPretrainedBackbone(dir(), {});
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("config.json"));

  nlohmann::json j = TinyMistral();
  j["rope_scaling"] = {{"rope_type", "dynamic"}, {"factor", 2.0}};
  ASSERT_TRUE(WriteJsonFile(dir() + "/config.json", j).ok());
  ASSERT_TRUE(WriteSafetensors(dir() + "/model.safetensors", {{"x", at::zeros({1})}}).ok());
  auto bad_config = LoadPretrainedBackbone(dir(), {});
  ASSERT_FALSE(bad_config.ok());
  EXPECT_THAT(std::string(bad_config.status().message()), HasSubstr("dynamic"));

  ASSERT_TRUE(WriteJsonFile(dir() + "/config.json", TinyMistral()).ok());
  auto no_weights = LoadPretrainedBackbone(dir(), {});
  ASSERT_FALSE(no_weights.ok());
  EXPECT_THAT(std::string(no_weights.status().message()), HasSubstr("model.embed_tokens.weight"));
  EXPECT_THAT(std::string(no_weights.status().message()), HasSubstr(dir()));
}

}  // namespace
}  // namespace zett
