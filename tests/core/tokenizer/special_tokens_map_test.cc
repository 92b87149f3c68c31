// transformers' all_special_tokens from tokenizer_config.json / special_tokens_map.json, on the
// shapes real configs have (Llama 3, Mistral/Llama 2, Qwen 3, Gemma 3, legacy files).
#include "core/tokenizer/special_tokens_map.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace zett::tokenizer {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> All(const TokenizerConfigFiles& files) {
  auto map = ParseSpecialTokensMap(files);
  EXPECT_TRUE(map.ok()) << map.status();
  return map.ok() ? map->AllSpecialTokens() : std::vector<std::string>{};
}

TEST(SpecialTokensMapTest, Llama3NamesOnlyBeginAndEndOfText) {
  TokenizerConfigFiles files;
  files.tokenizer_config_json = R"({"added_tokens_decoder": {}, "bos_token": "<|begin_of_text|>",
      "eos_token": "<|end_of_text|>", "tokenizer_class": "PreTrainedTokenizerFast"})";
  EXPECT_THAT(All(files), ElementsAre("<|begin_of_text|>", "<|end_of_text|>"));
}

TEST(SpecialTokensMapTest, NamedOrderAndNullPad) {
  TokenizerConfigFiles files;
  files.tokenizer_config_json = R"({"added_tokens_decoder": {}, "unk_token": "<unk>",
      "pad_token": null, "eos_token": {"__type": "AddedToken", "content": "</s>"},
      "bos_token": "<s>", "additional_special_tokens": [], "tokenizer_class": "LlamaTokenizer"})";
  // bos, eos, unk: transformers' attribute order, not the file's.
  EXPECT_THAT(All(files), ElementsAre("<s>", "</s>", "<unk>"));
  auto map = ParseSpecialTokensMap(files).value();
  EXPECT_EQ(map.Named("pad_token"), std::nullopt);
  EXPECT_EQ(map.Named("eos_token"), "</s>");
}

TEST(SpecialTokensMapTest, ExtraListAfterNamedWithoutDuplicates) {
  TokenizerConfigFiles files;
  files.tokenizer_config_json = R"({"added_tokens_decoder": {}, "eos_token": "<|im_end|>",
      "pad_token": "<|endoftext|>", "unk_token": null, "bos_token": null,
      "additional_special_tokens": ["<|im_start|>", "<|im_end|>", "<|vision_pad|>"]})";
  EXPECT_THAT(All(files),
              ElementsAre("<|im_end|>", "<|endoftext|>", "<|im_start|>", "<|vision_pad|>"));
}

TEST(SpecialTokensMapTest, ModelSpecificTokensFromKeysAndExtraDict) {
  TokenizerConfigFiles files;
  files.tokenizer_config_json = R"({"added_tokens_decoder": {}, "bos_token": "<bos>",
      "boi_token": "<start_of_image>", "eos_token": "<end_of_turn>",
      "extra_special_tokens": {"boi_token": "<start_of_image>", "image_token": "<image_soft_token>"},
      "add_bos_token": true, "pad_token": "<pad>", "unk_token": "<unk>"})";
  EXPECT_THAT(All(files), ElementsAre("<bos>", "<end_of_turn>", "<unk>", "<pad>",
                                      "<start_of_image>", "<image_soft_token>"));
}

TEST(SpecialTokensMapTest, LegacyMapIsReadOnlyWithoutAddedTokensDecoder) {
  TokenizerConfigFiles files;
  files.tokenizer_config_json = R"({"bos_token": "<s>"})";
  files.special_tokens_map_json = R"({"eos_token": {"content": "</s>", "lstrip": false},
      "additional_special_tokens": ["<sep>"]})";
  EXPECT_THAT(All(files), ElementsAre("<s>", "</s>", "<sep>"));
  files.tokenizer_config_json = R"({"bos_token": "<s>", "added_tokens_decoder": {}})";
  EXPECT_THAT(All(files), ElementsAre("<s>"));
  TokenizerConfigFiles map_only;
  map_only.special_tokens_map_json = R"({"unk_token": "[UNK]", "cls_token": "[CLS]"})";
  EXPECT_THAT(All(map_only), ElementsAre("[UNK]", "[CLS]"));
}

TEST(SpecialTokensMapTest, ClassDefaultsFillUnsetNamedTokens) {
  TokenizerConfigFiles files;
  files.tokenizer_config_json =
      R"({"added_tokens_decoder": {}, "tokenizer_class": "GPT2TokenizerFast"})";
  EXPECT_THAT(All(files), ElementsAre("<|endoftext|>"));
  files.tokenizer_config_json = R"({"added_tokens_decoder": {}, "tokenizer_class": "LlamaTokenizer",
      "bos_token": null})";
  EXPECT_THAT(All(files), ElementsAre("</s>", "<unk>"));  // an explicit null stays unset
}

TEST(SpecialTokensMapTest, MalformedFilesNameTheFileAndField) {
  TokenizerConfigFiles files;
  files.tokenizer_config_json = "[1, 2]";
  auto map = ParseSpecialTokensMap(files);
  ASSERT_FALSE(map.ok());
  EXPECT_NE(std::string(map.status().message()).find("tokenizer_config.json"), std::string::npos);
  files.tokenizer_config_json = R"({"eos_token": 5})";
  map = ParseSpecialTokensMap(files);
  ASSERT_FALSE(map.ok());
  EXPECT_EQ(map.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(map.status().message()).find("eos_token"), std::string::npos);
}

}  // namespace
}  // namespace zett::tokenizer
