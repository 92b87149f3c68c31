// `zett apply --finetuned`: on tiny Llama folders (base, the base transferred by `zett apply`,
// a fine-tuned copy of the base), the output's body is θ_ft + λ·(θ_transferred − θ_base) as
// computed here, its embeddings are the transfer's, the fine-tuned configs and chat template are
// kept with the target's vocabulary, and every mismatch is refused with its own message.
#include "client/apply/finetuned_model.h"

#include <ATen/ATen.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "client/apply/transferred_model.h"
#include "client/remote/embeddings_writer.h"
#include "client/remote/server_commands.h"
#include "core/io/json_file.h"
#include "core/io/safetensors.h"
#include "core/model/hf_config.h"
#include "core/model/llama.h"
#include "core/model/state_dict.h"
#include "tests/client/tiny_folders.h"

namespace zett::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr int64_t kBaseVocab = 40;
constexpr int64_t kHidden = 8;
constexpr int64_t kTargetVocab = 12;
constexpr char kShiftedTensor[] = "model.layers.0.mlp.up_proj.weight";
constexpr char kAlsoShifted[] = "model.norm.weight";

nlohmann::json Config() { return TinyLlamaConfig(kBaseVocab, kHidden, false, "float32"); }

nlohmann::json Tokenizer(const std::vector<std::string>& tokens) {
  return BpeTokenizerJson(tokens);
}

// "<s>", then kBaseVocab - 1 two-letter tokens.
std::vector<std::string> BaseTokens() {
  std::vector<std::string> tokens = {"<s>"};
  for (int i = 1; i < kBaseVocab; ++i) {
    tokens.push_back(std::string{static_cast<char>('a' + i / 26), static_cast<char>('a' + i % 26)});
  }
  return tokens;
}

std::vector<std::string> TargetTokens() {
  std::vector<std::string> tokens = {"<|endoftext|>"};
  for (int i = 1; i < kTargetVocab; ++i) tokens.push_back(std::string(1, 'a' + i - 1));
  return tokens;
}

TensorMap RandomModel(uint64_t seed) {
  auto config = ParseDecoderConfig(Config());
  EXPECT_TRUE(config.ok()) << config.status();
  at::manual_seed(seed);
  LlamaForCausalLM model(*config);
  model->InitWeights();
  return StateDict(*model, at::kFloat);
}

void WriteFolder(const std::string& dir, const nlohmann::json& config, const TensorMap& tensors,
                 const std::vector<std::string>& tokens) {
  fs::create_directories(dir);
  ASSERT_TRUE(WriteJsonFile(dir + "/config.json", config).ok());
  ASSERT_TRUE(WriteJsonFile(dir + "/tokenizer.json", Tokenizer(tokens)).ok());
  ASSERT_TRUE(WriteSafetensors(dir + "/model.safetensors", tensors, {{"format", "pt"}}).ok());
}

class FinetunedModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = (fs::path(::testing::TempDir()) /
             ::testing::UnitTest::GetInstance()->current_test_info()->name())
                .string();
    fs::remove_all(root_);
    base_tensors_ = RandomModel(5);
    WriteFolder(base(), Config(), base_tensors_, BaseTokens());
    ASSERT_TRUE(WriteJsonFile(base() + "/tokenizer_config.json",
                              {{"bos_token", "<s>"}, {"eos_token", "<s>"}})
                    .ok());
    // The fine-tuned model: every tensor moved away from the base, embeddings included.
    at::manual_seed(7);
    for (const auto& [name, tensor] : base_tensors_) {
      ft_tensors_[name] = tensor + 0.1 * at::randn(tensor.sizes());
    }
    nlohmann::json ft_config = Config();
    ft_config["ft_marker"] = "kept";
    WriteFolder(finetuned(), ft_config, ft_tensors_, BaseTokens());
    ASSERT_TRUE(WriteJsonFile(finetuned() + "/generation_config.json", {{"bos_token_id", 1},
                                                                        {"eos_token_id", {2, 3}},
                                                                        {"temperature", 0.7},
                                                                        {"do_sample", true},
                                                                        {"suppress_tokens", {5}}})
                    .ok());
    ASSERT_TRUE(WriteJsonFile(finetuned() + "/tokenizer_config.json",
                              {{"bos_token", "<s>"}, {"chat_template", "{{ messages }}"}})
                    .ok());
    for (const char* name : {"README.md", "chat_template.jinja", "trainer_state.json",
                             "tokenizer.model", "optimizer.safetensors"}) {
      ASSERT_TRUE(WriteStringToFile(finetuned() + "/" + name, name).ok());
    }
    // The base transferred to a 12-token target, as `zett apply` writes it.
    fs::create_directories(root_ + "/target");
    ASSERT_TRUE(WriteJsonFile(target(), Tokenizer(TargetTokens())).ok());
    ASSERT_TRUE(WriteJsonFile(root_ + "/target/tokenizer_config.json",
                              {{"bos_token", "<|endoftext|>"}, {"eos_token", "<|endoftext|>"}})
                    .ok());
    at::manual_seed(11);
    embeddings_.tensors[apply::kInputEmbeddings] = at::randn({kTargetVocab, kHidden});
    embeddings_.tensors[apply::kOutputEmbeddings] = at::randn({kTargetVocab, kHidden});
    auto written = apply::WriteTransferredModel(base(), target(), embeddings_, transferred());
    ASSERT_TRUE(written.ok()) << written.status();
  }

  // The transferred base with two body tensors changed too (a base whose body the transfer
  // moved, e.g. trained further with the new tokenizer).
  TensorMap ChangeTransferredBody() {
    auto tensors = ReadSafetensors(transferred() + "/model.safetensors");
    EXPECT_TRUE(tensors.ok()) << tensors.status();
    at::manual_seed(13);
    for (const char* name : {kShiftedTensor, kAlsoShifted}) {
      (*tensors)[name] = (*tensors)[name] + at::randn((*tensors)[name].sizes());
    }
    EXPECT_TRUE(WriteSafetensors(transferred() + "/model.safetensors", *tensors).ok());
    return *tensors;
  }

  TensorMap Out() const {
    auto tensors = ReadSafetensors(out() + "/model.safetensors");
    EXPECT_TRUE(tensors.ok()) << tensors.status();
    return tensors.ok() ? *tensors : TensorMap();
  }

  // Rewrites one file of the fine-tuned folder.
  void EditFinetunedConfig(const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json config = *ReadJsonFile(finetuned() + "/config.json");
    edit(config);
    ASSERT_TRUE(WriteJsonFile(finetuned() + "/config.json", config).ok());
  }

  void ExpectRefused(const std::string& message) {
    auto summary = apply::WriteFinetunedTransfer(base(), transferred(), finetuned(), out());
    ASSERT_FALSE(summary.ok());
    EXPECT_EQ(summary.status().code(), absl::StatusCode::kInvalidArgument) << summary.status();
    EXPECT_THAT(summary.status().message(), HasSubstr(message));
    EXPECT_FALSE(fs::exists(out()));
    EXPECT_FALSE(fs::exists(out() + ".partial"));
  }

  std::string base() const { return root_ + "/base"; }
  std::string finetuned() const { return root_ + "/finetuned"; }
  std::string transferred() const { return root_ + "/transferred"; }
  std::string target() const { return root_ + "/target/tokenizer.json"; }
  std::string out() const { return root_ + "/out"; }

  std::string root_;
  TensorMap base_tensors_, ft_tensors_;
  apply::TransferredEmbeddings embeddings_;
};

TEST_F(FinetunedModelTest, BodyIsTheFinetunedOneShiftedByLambdaTimesTheTransfersChange) {
  const TensorMap transferred_tensors = ChangeTransferredBody();
  apply::FinetunedOptions options;
  options.lambda = 0.3;
  auto summary = apply::WriteFinetunedTransfer(base(), transferred(), finetuned(), out(), options);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->tensors_shifted, 2);
  EXPECT_EQ(summary->tensors_kept, static_cast<int64_t>(base_tensors_.size()) - 4);
  const TensorMap out_tensors = Out();
  ASSERT_EQ(out_tensors.size(), base_tensors_.size());
  for (const char* name : {kShiftedTensor, kAlsoShifted}) {
    const at::Tensor expected =
        ft_tensors_.at(name).to(at::kDouble) + 0.3 * (transferred_tensors.at(name).to(at::kDouble) -
                                                      base_tensors_.at(name).to(at::kDouble));
    EXPECT_TRUE(at::allclose(out_tensors.at(name).to(at::kDouble), expected, 1e-6, 1e-6)) << name;
    EXPECT_FALSE(at::allclose(out_tensors.at(name), ft_tensors_.at(name))) << name;
  }
  // Body tensors the transfer did not move are the fine-tuned ones, exactly.
  EXPECT_TRUE(at::equal(out_tensors.at("model.layers.1.self_attn.q_proj.weight"),
                        ft_tensors_.at("model.layers.1.self_attn.q_proj.weight")));
}

TEST_F(FinetunedModelTest, EmbeddingsAreTheTransfersAndLambdaZeroKeepsTheFinetunedBody) {
  ChangeTransferredBody();
  apply::FinetunedOptions options;
  options.lambda = 0;
  auto summary = apply::WriteFinetunedTransfer(base(), transferred(), finetuned(), out(), options);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->tensors_shifted, 0);
  EXPECT_THAT(summary->replaced,
              ::testing::UnorderedElementsAre("model.embed_tokens.weight", "lm_head.weight"));
  const TensorMap out_tensors = Out();
  EXPECT_TRUE(at::equal(out_tensors.at("model.embed_tokens.weight"),
                        embeddings_.tensors.at(apply::kInputEmbeddings)));
  EXPECT_TRUE(at::equal(out_tensors.at("lm_head.weight"),
                        embeddings_.tensors.at(apply::kOutputEmbeddings)));
  EXPECT_TRUE(at::equal(out_tensors.at(kShiftedTensor), ft_tensors_.at(kShiftedTensor)));
}

TEST_F(FinetunedModelTest, FinetunedConfigsAndChatTemplateAreKeptWithTheTargetVocabulary) {
  auto summary = apply::WriteFinetunedTransfer(base(), transferred(), finetuned(), out());
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->vocab_size, kTargetVocab);
  EXPECT_EQ(summary->tensors_shifted, 0);  // `zett apply` keeps the base body
  EXPECT_TRUE(summary->chat_template);
  EXPECT_THAT(summary->copied_files,
              ::testing::UnorderedElementsAre("README.md", "chat_template.jinja"));

  const nlohmann::json config = *ReadJsonFile(out() + "/config.json");
  EXPECT_EQ(config["ft_marker"], "kept");
  EXPECT_EQ(config["vocab_size"], kTargetVocab);
  EXPECT_EQ(config["bos_token_id"], 0);
  EXPECT_EQ(config["eos_token_id"], 0);
  const nlohmann::json generation = *ReadJsonFile(out() + "/generation_config.json");
  EXPECT_EQ(generation["temperature"], 0.7);
  EXPECT_EQ(generation["do_sample"], true);
  EXPECT_EQ(generation["eos_token_id"], 0);
  EXPECT_FALSE(generation.contains("suppress_tokens"));
  const nlohmann::json tokenizer_config = *ReadJsonFile(out() + "/tokenizer_config.json");
  EXPECT_EQ(tokenizer_config["chat_template"], "{{ messages }}");
  EXPECT_EQ(tokenizer_config["bos_token"], "<|endoftext|>");
  EXPECT_EQ(*ReadFileToString(out() + "/tokenizer.json"),
            *ReadFileToString(transferred() + "/tokenizer.json"));
  EXPECT_EQ(*ReadFileToString(out() + "/README.md"), "README.md");
  for (const char* dropped : {"trainer_state.json", "tokenizer.model", "optimizer.safetensors"}) {
    EXPECT_FALSE(fs::exists(out() + "/" + dropped)) << dropped;
  }
}

TEST_F(FinetunedModelTest, RefusesAnotherArchitecture) {
  EditFinetunedConfig([](nlohmann::json& c) {
    c["architectures"] = {"MistralForCausalLM"};
    c["model_type"] = "mistral";
  });
  ExpectRefused("architecture differs: base " + base() + " has LlamaForCausalLM, fine-tuned " +
                finetuned() + " has MistralForCausalLM");
}

TEST_F(FinetunedModelTest, RefusesAnotherHiddenSize) {
  EditFinetunedConfig([](nlohmann::json& c) { c["hidden_size"] = 16; });
  ExpectRefused("hidden size differs: base " + base() + " has 8, fine-tuned " + finetuned() +
                " has 16");
}

TEST_F(FinetunedModelTest, RefusesAnotherNumberOfLayers) {
  EditFinetunedConfig([](nlohmann::json& c) { c["num_hidden_layers"] = 3; });
  ExpectRefused("number of layers differs");
}

TEST_F(FinetunedModelTest, RefusesAnotherSetOfBodyTensors) {
  TensorMap tensors = ft_tensors_;
  tensors["model.layers.2.input_layernorm.weight"] = at::ones({kHidden});
  tensors.erase("model.layers.1.mlp.down_proj.weight");
  ASSERT_TRUE(WriteSafetensors(finetuned() + "/model.safetensors", tensors).ok());
  ExpectRefused("layers differ: fine-tuned " + finetuned() +
                " lacks model.layers.1.mlp.down_proj.weight and has "
                "model.layers.2.input_layernorm.weight that the base lacks");
}

TEST_F(FinetunedModelTest, RefusesABodyTensorOfAnotherShape) {
  TensorMap tensors = ft_tensors_;
  tensors[kShiftedTensor] = at::zeros({12, 4});
  ASSERT_TRUE(WriteSafetensors(finetuned() + "/model.safetensors", tensors).ok());
  ExpectRefused(std::string("shape of \"") + kShiftedTensor + "\" differs: base " + base() +
                " has [12, 8]");
}

TEST_F(FinetunedModelTest, RefusesAFinetunedVocabularyThatDiffersFromTheBases) {
  std::vector<std::string> tokens = BaseTokens();
  tokens[5] = "<|im_start|>";
  ASSERT_TRUE(WriteJsonFile(finetuned() + "/tokenizer.json", Tokenizer(tokens)).ok());
  ExpectRefused("vocabulary differs: id 5 is \"af\" in " + base() +
                "/tokenizer.json but \"<|im_start|>\"");
}

TEST_F(FinetunedModelTest, RefusesAFinetunedModelWithAddedTokens) {
  EditFinetunedConfig([](nlohmann::json& c) { c["vocab_size"] = kBaseVocab + 2; });
  ExpectRefused("vocabulary differs: base " + base() + " has vocab_size 40, fine-tuned " +
                finetuned() + " has 42");
}

TEST_F(FinetunedModelTest, ApplyCommandWithFinetunedAndLambda) {
  const std::string embeddings = root_ + "/embeddings";
  fs::create_directories(embeddings);
  ASSERT_TRUE(
      WriteSafetensors(embeddings + "/" + client::kEmbeddingsFile, embeddings_.tensors).ok());
  nlohmann::json table = nlohmann::json::array();
  for (const std::string& token : TargetTokens()) {
    table.push_back({{"token", token}, {"special", token == "<|endoftext|>"}});
  }
  ASSERT_TRUE(WriteJsonFile(embeddings + "/" + client::kVocabularyFile, table).ok());
  std::vector<std::string> args = {"--base",       base(),     "--tokenizer", target(),
                                   "--embeddings", embeddings, "--finetuned", finetuned(),
                                   "--lambda",     "0.5",      "--out",       out()};
  ASSERT_EQ(cli::RunApply(args), 0);
  EXPECT_FALSE(fs::exists(out() + ".transferred-base"));
  const TensorMap out_tensors = Out();
  EXPECT_TRUE(at::equal(out_tensors.at("model.embed_tokens.weight"),
                        embeddings_.tensors.at(apply::kInputEmbeddings)));
  EXPECT_TRUE(at::equal(out_tensors.at(kShiftedTensor), ft_tensors_.at(kShiftedTensor)));
  // Refused: an existing out dir without --force, a lambda that is not a number, --lambda alone.
  EXPECT_NE(cli::RunApply(args), 0);
  args.push_back("--force");
  args[9] = "half";
  EXPECT_NE(cli::RunApply(args), 0);
  std::vector<std::string> no_finetuned = {"--base",       base(),          "--tokenizer", target(),
                                           "--embeddings", embeddings,      "--lambda",    "0.5",
                                           "--out",        root_ + "/other"};
  EXPECT_NE(cli::RunApply(no_finetuned), 0);
  EXPECT_FALSE(fs::exists(root_ + "/other"));
}

}  // namespace
}  // namespace zett::testing
