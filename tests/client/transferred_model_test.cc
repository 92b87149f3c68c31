// `zett apply`'s model-folder writer: the applied folder loads with our own backbone loader and
// gives the logits of the base backbone run with the transferred embeddings supplied from
// outside; config ids are mapped to the target vocabulary; every other tensor is byte for byte
// the base's (single file and sharded); bad inputs are refused with clear errors; and the CLI
// runs end to end against a loopback zett-server.
#include "client/apply/transferred_model.h"

#include <ATen/ATen.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "client/remote/server_commands.h"
#include "core/io/json_file.h"
#include "core/io/safetensors.h"
#include "core/model/pretrained.h"
#include "core/model/state_dict.h"
#include "core/tokenizer/sentencepiece_model.h"
#include "core/tokenizer/sentencepiece_to_json.h"
#include "core/tokenizer/tokenizer_file.h"
#include "tests/client/tiny_folders.h"
#include "tests/server/loopback.h"

namespace zett::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

constexpr int64_t kBaseVocab = 40;
constexpr int64_t kHidden = 8;
constexpr int64_t kTargetVocab = 12;

nlohmann::json BaseConfig(bool tied) {
  return TinyLlamaConfig(kBaseVocab, kHidden, tied, "bfloat16");
}

// A BPE tokenizer.json with `first` as special token 0 and "a".."k" as ids 1..11.
void WriteTargetTokenizer(const std::string& path, const std::string& first) {
  std::vector<std::string> tokens = {first};
  for (int i = 1; i < kTargetVocab; ++i)
    tokens.push_back(std::string(1, static_cast<char>('a' + i - 1)));
  ASSERT_TRUE(WriteJsonFile(path, BpeTokenizerJson(tokens)).ok());
}

std::string Bytes(const at::Tensor& tensor) {
  const at::Tensor contiguous = tensor.contiguous();
  return std::string(static_cast<const char*>(contiguous.data_ptr()), contiguous.nbytes());
}

class TransferredModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = MakeTempDir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    WriteBase(base(), /*tied=*/false);
    fs::create_directories(root_ + "/target");
    WriteTargetTokenizer(tokenizer(), "<|endoftext|>");
    ASSERT_TRUE(WriteJsonFile(root_ + "/target/tokenizer_config.json",
                              {{"tokenizer_class", "GPT2Tokenizer"},
                               {"bos_token", "<|endoftext|>"},
                               {"eos_token", "<|endoftext|>"},
                               {"unk_token", "<|endoftext|>"},
                               {"model_max_length", 1024}})
                    .ok());
    at::manual_seed(11);
    embeddings_[apply::kInputEmbeddings] = at::randn({kTargetVocab, kHidden});
    embeddings_[apply::kOutputEmbeddings] = at::randn({kTargetVocab, kHidden});
  }

  void WriteBase(const std::string& dir, bool tied) {
    fs::create_directories(dir);
    auto config = ParseDecoderConfig(BaseConfig(tied));
    ASSERT_TRUE(config.ok()) << config.status();
    at::manual_seed(5);
    LlamaForCausalLM model(*config);
    model->InitWeights();
    ASSERT_TRUE(WriteJsonFile(dir + "/config.json", BaseConfig(tied)).ok());
    ASSERT_TRUE(WriteJsonFile(dir + "/generation_config.json",
                              {{"bos_token_id", 1}, {"eos_token_id", {2, 3}}, {"do_sample", false}})
                    .ok());
    ASSERT_TRUE(WriteJsonFile(dir + "/tokenizer_config.json",
                              {{"bos_token", "<s>"}, {"eos_token", "</s>"}, {"unk_token", "<unk>"}})
                    .ok());
    ASSERT_TRUE(WriteSafetensors(dir + "/model.safetensors", StateDict(*model, at::kBFloat16),
                                 {{"format", "pt"}})
                    .ok());
  }

  std::string base() const { return root_ + "/base"; }
  std::string tokenizer() const { return root_ + "/target/tokenizer.json"; }
  std::string out() const { return root_ + "/out"; }

  // Logits of `dir` on target ids, and of the base run with the embeddings given from outside
  // (converted to the base's bf16 storage, as the applied checkpoint holds them).
  void ExpectLogitsOfBaseWithExternalEmbeddings(const std::string& dir) {
    auto applied = LoadPretrainedBackbone(dir, {});
    ASSERT_TRUE(applied.ok()) << applied.status();
    auto original = LoadPretrainedBackbone(base(), {});
    ASSERT_TRUE(original.ok()) << original.status();
    const at::Tensor ids = at::randint(0, kTargetVocab, {2, 7}, at::kLong);
    const at::Tensor logits = applied->Logits(ids, {});
    DecoderInputs in;
    in.input_ids = ids;
    in.input_embeddings = embeddings_[apply::kInputEmbeddings].to(at::kBFloat16).to(at::kFloat);
    in.lm_head_weight = embeddings_[apply::kOutputEmbeddings].to(at::kBFloat16).to(at::kFloat);
    const at::Tensor expected = original->decoder(in);
    ASSERT_EQ(logits.sizes(), (at::IntArrayRef{2, 7, kTargetVocab}));
    EXPECT_TRUE(at::equal(logits, expected))
        << "max abs diff " << (logits - expected).abs().max().item<float>();
  }

  std::string root_;
  TensorMap embeddings_;
};

TEST_F(TransferredModelTest, AppliedFolderGivesTheLogitsOfTheBaseWithTransferredEmbeddings) {
  auto summary = apply::WriteTransferredModel(base(), tokenizer(), {embeddings_}, out());
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->vocab_size, kTargetVocab);
  EXPECT_EQ(summary->hidden_size, kHidden);
  EXPECT_FALSE(summary->tied);
  EXPECT_THAT(summary->replaced_tensors,
              ::testing::UnorderedElementsAre("model.embed_tokens.weight", "lm_head.weight"));
  ExpectLogitsOfBaseWithExternalEmbeddings(out());
  EXPECT_FALSE(fs::exists(out() + ".partial"));
}

TEST_F(TransferredModelTest, ConfigsAndTokenizerFilesNameTheTargetVocabulary) {
  ASSERT_TRUE(apply::WriteTransferredModel(base(), tokenizer(), {embeddings_}, out()).ok());
  auto config = ReadJsonFile(out() + "/config.json");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ((*config)["vocab_size"], kTargetVocab);
  EXPECT_EQ((*config)["bos_token_id"], 0);
  EXPECT_EQ((*config)["eos_token_id"], 0);
  EXPECT_TRUE((*config)["pad_token_id"].is_null());
  EXPECT_EQ((*config)["tie_word_embeddings"], false);
  EXPECT_EQ((*config)["torch_dtype"], "bfloat16");
  EXPECT_EQ((*config)["hidden_size"], kHidden);

  auto generation = ReadJsonFile(out() + "/generation_config.json");
  ASSERT_TRUE(generation.ok()) << generation.status();
  EXPECT_EQ((*generation)["bos_token_id"], 0);
  EXPECT_EQ((*generation)["eos_token_id"], 0);
  EXPECT_TRUE((*generation)["pad_token_id"].is_null());
  EXPECT_EQ((*generation)["do_sample"], false);

  EXPECT_EQ(*ReadFileToString(out() + "/tokenizer.json"), *ReadFileToString(tokenizer()));
  auto tokenizer_config = ReadJsonFile(out() + "/tokenizer_config.json");
  ASSERT_TRUE(tokenizer_config.ok()) << tokenizer_config.status();
  EXPECT_EQ((*tokenizer_config)["tokenizer_class"], "PreTrainedTokenizerFast");
  EXPECT_EQ((*tokenizer_config)["bos_token"], "<|endoftext|>");
  EXPECT_EQ((*tokenizer_config)["unk_token"], "<|endoftext|>");
  EXPECT_TRUE((*tokenizer_config)["pad_token"].is_null());
  EXPECT_EQ((*tokenizer_config)["model_max_length"], 1024);
  auto special = ReadJsonFile(out() + "/special_tokens_map.json");
  ASSERT_TRUE(special.ok());
  EXPECT_EQ((*special)["eos_token"], "<|endoftext|>");
  EXPECT_FALSE(special->contains("pad_token"));
}

TEST_F(TransferredModelTest, WithoutATargetConfigTheBaseStringsFoundInTheTargetAreUsed) {
  fs::remove(root_ + "/target/tokenizer_config.json");
  WriteTargetTokenizer(tokenizer(), "</s>");
  auto summary = apply::WriteTransferredModel(base(), tokenizer(), {embeddings_}, out());
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_FALSE(summary->bos.id.has_value());  // "<s>" is not in the target
  ASSERT_TRUE(summary->eos.id.has_value());
  EXPECT_EQ(*summary->eos.id, 0);
  auto config = ReadJsonFile(out() + "/config.json");
  ASSERT_TRUE(config.ok());
  EXPECT_TRUE((*config)["bos_token_id"].is_null());
  EXPECT_EQ((*config)["eos_token_id"], 0);
}

TEST_F(TransferredModelTest, EveryOtherTensorIsByteIdenticalAndEmbeddingsKeepTheBaseDtype) {
  ASSERT_TRUE(apply::WriteTransferredModel(base(), tokenizer(), {embeddings_}, out()).ok());
  SafetensorsMetadata base_metadata, out_metadata;
  auto base_tensors = ReadSafetensors(base() + "/model.safetensors", &base_metadata);
  auto out_tensors = ReadSafetensors(out() + "/model.safetensors", &out_metadata);
  ASSERT_TRUE(base_tensors.ok() && out_tensors.ok());
  EXPECT_EQ(base_metadata, out_metadata);
  ASSERT_EQ(base_tensors->size(), out_tensors->size());
  for (const auto& [name, tensor] : *base_tensors) {
    const at::Tensor& written = out_tensors->at(name);
    EXPECT_EQ(written.scalar_type(), tensor.scalar_type()) << name;
    if (name == "model.embed_tokens.weight" || name == "lm_head.weight") {
      const char* source =
          name == "lm_head.weight" ? apply::kOutputEmbeddings : apply::kInputEmbeddings;
      EXPECT_EQ(Bytes(written), Bytes(embeddings_[source].to(at::kBFloat16))) << name;
    } else {
      EXPECT_EQ(Bytes(written), Bytes(tensor)) << name;
    }
  }
}

TEST_F(TransferredModelTest, ShardedBaseKeepsItsShards) {
  const std::string sharded = root_ + "/sharded";
  fs::create_directories(sharded);
  for (const char* file : {"config.json", "generation_config.json", "tokenizer_config.json"}) {
    fs::copy_file(base() + "/" + file, sharded + "/" + file);
  }
  auto tensors = ReadSafetensors(base() + "/model.safetensors");
  ASSERT_TRUE(tensors.ok());
  TensorMap first, second;
  nlohmann::json weight_map = nlohmann::json::object();
  for (const auto& [name, tensor] : *tensors) {
    const bool in_first = name.rfind("model.layers.0.", 0) == 0 || name == "lm_head.weight";
    (in_first ? first : second)[name] = tensor;
    weight_map[name] =
        in_first ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  }
  ASSERT_TRUE(WriteSafetensors(sharded + "/model-00001-of-00002.safetensors", first).ok());
  ASSERT_TRUE(WriteSafetensors(sharded + "/model-00002-of-00002.safetensors", second).ok());
  ASSERT_TRUE(WriteJsonFile(sharded + "/model.safetensors.index.json",
                            {{"metadata", {{"total_size", 1}}}, {"weight_map", weight_map}})
                  .ok());

  ASSERT_TRUE(apply::WriteTransferredModel(sharded, tokenizer(), {embeddings_}, out()).ok());
  EXPECT_TRUE(fs::exists(out() + "/model-00001-of-00002.safetensors"));
  EXPECT_TRUE(fs::exists(out() + "/model-00002-of-00002.safetensors"));
  EXPECT_FALSE(fs::exists(out() + "/model.safetensors"));
  auto index = ReadJsonFile(out() + "/model.safetensors.index.json");
  ASSERT_TRUE(index.ok());
  EXPECT_EQ((*index)["weight_map"], weight_map);
  auto applied = ReadSafetensorsDir(out());
  ASSERT_TRUE(applied.ok()) << applied.status();
  uint64_t total = 0;
  for (const auto& [name, tensor] : *applied) total += tensor.nbytes();
  EXPECT_EQ((*index)["metadata"]["total_size"], total);
  ExpectLogitsOfBaseWithExternalEmbeddings(out());
}

TEST_F(TransferredModelTest, RefusesAHiddenSizeThatDiffersAndLeavesNothingBehind) {
  TensorMap narrow = {{apply::kInputEmbeddings, at::randn({kTargetVocab, 6})},
                      {apply::kOutputEmbeddings, at::randn({kTargetVocab, 6})}};
  auto summary = apply::WriteTransferredModel(base(), tokenizer(), {narrow}, out());
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(summary.status().message()), HasSubstr("hidden size differs"));
  EXPECT_FALSE(fs::exists(out()));
  EXPECT_FALSE(fs::exists(out() + ".partial"));
}

TEST_F(TransferredModelTest, RefusesMissingFiles) {
  auto no_base =
      apply::WriteTransferredModel(root_ + "/nowhere", tokenizer(), {embeddings_}, out());
  EXPECT_EQ(no_base.status().code(), absl::StatusCode::kNotFound);
  auto no_tokenizer =
      apply::WriteTransferredModel(base(), root_ + "/none.json", {embeddings_}, out());
  EXPECT_EQ(no_tokenizer.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(no_tokenizer.status().message()), HasSubstr("none.json"));

  fs::remove(base() + "/model.safetensors");
  auto no_weights = apply::WriteTransferredModel(base(), tokenizer(), {embeddings_}, out());
  EXPECT_EQ(no_weights.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(no_weights.status().message()), HasSubstr("model.safetensors"));

  fs::remove(base() + "/config.json");
  auto no_config = apply::WriteTransferredModel(base(), tokenizer(), {embeddings_}, out());
  EXPECT_EQ(no_config.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(no_config.status().message()), HasSubstr("config.json"));
  EXPECT_FALSE(fs::exists(out()));
}

TEST_F(TransferredModelTest, RefusesANonEmptyOutDirUnlessForced) {
  fs::create_directories(out());
  std::ofstream(out() + "/keep.txt") << "user data";
  auto refused = apply::WriteTransferredModel(base(), tokenizer(), {embeddings_}, out());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("--force"));
  EXPECT_TRUE(fs::exists(out() + "/keep.txt"));

  apply::ApplyOptions force;
  force.force = true;
  ASSERT_TRUE(apply::WriteTransferredModel(base(), tokenizer(), {embeddings_}, out(), force).ok());
  EXPECT_FALSE(fs::exists(out() + "/keep.txt"));
  EXPECT_TRUE(fs::exists(out() + "/model.safetensors"));

  auto onto_base = apply::WriteTransferredModel(base(), tokenizer(), {embeddings_}, base(), force);
  EXPECT_EQ(onto_base.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(fs::exists(base() + "/model.safetensors"));
}

TEST_F(TransferredModelTest, RefusesTransfersThatDoNotFitTheBaseOrTheTokenizer) {
  TensorMap short_rows = {{apply::kInputEmbeddings, at::randn({kTargetVocab - 1, kHidden})},
                          {apply::kOutputEmbeddings, at::randn({kTargetVocab - 1, kHidden})}};
  auto rows = apply::WriteTransferredModel(base(), tokenizer(), {short_rows}, out());
  EXPECT_EQ(rows.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(rows.status().message()), HasSubstr("different tokenizer"));

  TensorMap input_only = {{apply::kInputEmbeddings, embeddings_[apply::kInputEmbeddings]}};
  auto untied = apply::WriteTransferredModel(base(), tokenizer(), {input_only}, out());
  EXPECT_EQ(untied.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(untied.status().message()), HasSubstr("untied LM head"));

  const std::string tied_base = root_ + "/tied";
  WriteBase(tied_base, /*tied=*/true);
  auto tied = apply::WriteTransferredModel(tied_base, tokenizer(), {embeddings_}, out());
  EXPECT_EQ(tied.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(tied.status().message()), HasSubstr("ties its embeddings"));
  auto tied_ok = apply::WriteTransferredModel(tied_base, tokenizer(), {input_only}, out());
  ASSERT_TRUE(tied_ok.ok()) << tied_ok.status();
  EXPECT_TRUE(tied_ok->tied);
  auto loaded = LoadPretrainedBackbone(out(), {});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->decoder->OutputEmbeddings().size(0), kTargetVocab);
}

// A vocabulary table in zett's converted order (the base's specials first, the target's own
// special dropped): rows are found by surface form, the dropped special takes the base row of
// its role (eos "</s>"), and the result equals the identity-ordered transfer.
TEST_F(TransferredModelTest, RowsAreMappedFromTheTransferTableToTargetIds) {
  apply::TransferredEmbeddings shuffled;
  std::vector<int64_t> order;  // table row -> target id (-1: the base special)
  shuffled.tokens = {"<unk>", "<s>", "</s>"};
  shuffled.special = {true, true, true};
  for (int64_t id = kTargetVocab - 1; id >= 1; --id) {
    shuffled.tokens.push_back(std::string(1, static_cast<char>('a' + id - 1)));
    shuffled.special.push_back(false);
  }
  const at::Tensor eos_row = at::randn({1, kHidden});
  for (const char* name : {apply::kInputEmbeddings, apply::kOutputEmbeddings}) {
    const at::Tensor& table = embeddings_[name];
    std::vector<at::Tensor> parts = {at::randn({2, kHidden}), eos_row};
    for (int64_t id = kTargetVocab - 1; id >= 1; --id) parts.push_back(table.slice(0, id, id + 1));
    shuffled.tensors[name] = at::cat(parts, 0);
    embeddings_[name] = table.clone();
    embeddings_[name].slice(0, 0, 1).copy_(eos_row);
  }
  auto summary = apply::WriteTransferredModel(base(), tokenizer(), shuffled, out());
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->vocab_size, kTargetVocab);
  EXPECT_EQ(summary->rows_by_surface_form, kTargetVocab - 1);
  EXPECT_EQ(summary->rows_by_role, 1);
  EXPECT_EQ(summary->rows_mean, 0);
  ExpectLogitsOfBaseWithExternalEmbeddings(out());
}

// zett apply over loopback: straight from the server, and from a finished `zett transfer`
// output; both give the same checkpoint, whose embeddings are the streamed rows.
TEST_F(TransferredModelTest, ApplyCommandAgainstALoopbackServer) {
  const std::string repository = MakeTempDir("apply_repository");
  WriteTestModelVersion(repository, "m", 1,
                        R"({"hidden_size": 8, "tied": false, "predicts_bias": false,
                            "surface_maxlen": 4})");
  LoopbackServer server(repository);
  const std::string address = absl::StrCat("127.0.0.1:", server.server().port());

  EXPECT_EQ(cli::RunApply({"--server", address, "--model", "m", "--tokenizer", tokenizer(),
                           "--base", base(), "--out", out()}),
            0);
  const std::string transfer = root_ + "/transfer";
  ASSERT_EQ(cli::RunTransfer({"--server", address, "--model", "m", "--tokenizer", tokenizer(),
                              "--out", transfer, "--dtype", "bf16"}),
            0);
  const std::string from_file = root_ + "/from_file";
  EXPECT_EQ(cli::RunApply({"--embeddings", transfer, "--tokenizer", tokenizer(), "--base", base(),
                           "--out", from_file}),
            0);
  EXPECT_EQ(*ReadFileToString(out() + "/model.safetensors"),
            *ReadFileToString(from_file + "/model.safetensors"));
  auto streamed = ReadSafetensors(transfer + "/embeddings.safetensors");
  auto applied = ReadSafetensors(out() + "/model.safetensors");
  ASSERT_TRUE(streamed.ok() && applied.ok());
  EXPECT_EQ(Bytes(applied->at("model.embed_tokens.weight")),
            Bytes(streamed->at("input_embeddings")));
  EXPECT_EQ(Bytes(applied->at("lm_head.weight")), Bytes(streamed->at("output_embeddings")));

  // Existing output, both sources at once, neither source, unknown model.
  EXPECT_EQ(cli::RunApply({"--embeddings", transfer, "--tokenizer", tokenizer(), "--base", base(),
                           "--out", from_file}),
            1);
  EXPECT_EQ(cli::RunApply({"--embeddings", transfer, "--tokenizer", tokenizer(), "--base", base(),
                           "--out", from_file, "--force"}),
            0);
  EXPECT_EQ(cli::RunApply({"--server", address, "--model", "m", "--embeddings", transfer,
                           "--tokenizer", tokenizer(), "--base", base(), "--out", root_ + "/x"}),
            1);
  EXPECT_EQ(cli::RunApply({"--tokenizer", tokenizer(), "--base", base(), "--out", root_ + "/x"}),
            1);
  EXPECT_EQ(cli::RunApply({"--server", address, "--model", "missing", "--tokenizer", tokenizer(),
                           "--base", base(), "--out", root_ + "/x"}),
            1);
  EXPECT_FALSE(fs::exists(root_ + "/x"));
}

// A SentencePiece .model target (the bundled base tokenizer: BPE, 4,096 pieces): converted to
// the tokenizer.json the folder holds (sp_to_hf.py's document), special tokens from the model's
// own unk/bos/eos ids, and that file encodes like the .model.
class SentencePieceTargetTest : public TransferredModelTest {
 protected:
  void SetUp() override {
    TransferredModelTest::SetUp();
    model_bytes_ = *ReadFileToString("models/base-tokenizer/tokenizer.model");
    fs::create_directories(root_ + "/sp");
    ASSERT_TRUE(WriteStringToFile(model(), model_bytes_).ok());
    auto tokenizer = tokenizer::LoadSentencePieceModel(model_bytes_);
    ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
    vocab_ = (*tokenizer)->vocab_size();
    embeddings_[apply::kInputEmbeddings] = at::randn({vocab_, kHidden});
    embeddings_[apply::kOutputEmbeddings] = at::randn({vocab_, kHidden});
  }
  std::string model() const { return root_ + "/sp/tokenizer.model"; }
  std::string model_bytes_;
  int64_t vocab_ = 0;
};

TEST_F(SentencePieceTargetTest, ModelTargetIsConvertedToTheFoldersTokenizerJson) {
  auto summary = apply::WriteTransferredModel(base(), model(), {embeddings_}, out());
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_TRUE(summary->tokenizer_converted);
  EXPECT_EQ(summary->vocab_size, 4096);
  EXPECT_EQ(summary->rows_by_surface_form, 4096);
  EXPECT_EQ(summary->bos.id, 1);
  EXPECT_EQ(summary->eos.id, 2);
  EXPECT_EQ(summary->unk.id, 0);
  EXPECT_FALSE(summary->pad.id.has_value());
  EXPECT_THAT(summary->special_tokens_source, HasSubstr("SentencePiece"));

  const std::string written = *ReadFileToString(out() + "/tokenizer.json");
  EXPECT_EQ(written, *tokenizer::ConvertSentencePieceModel(model_bytes_));
  EXPECT_EQ(nlohmann::json::parse(written),
            nlohmann::json::parse(*ReadFileToString("models/base-tokenizer/tokenizer.json")));
  auto tokenizer_config = ReadJsonFile(out() + "/tokenizer_config.json");
  ASSERT_TRUE(tokenizer_config.ok());
  EXPECT_EQ((*tokenizer_config)["tokenizer_class"], "PreTrainedTokenizerFast");
  EXPECT_EQ((*tokenizer_config)["bos_token"], "<s>");
  EXPECT_EQ((*tokenizer_config)["eos_token"], "</s>");
  EXPECT_EQ((*tokenizer_config)["unk_token"], "<unk>");
  EXPECT_TRUE((*tokenizer_config)["pad_token"].is_null());
  auto config = ReadJsonFile(out() + "/config.json");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ((*config)["vocab_size"], 4096);
  EXPECT_EQ((*config)["bos_token_id"], 1);
  EXPECT_EQ((*config)["eos_token_id"], 2);
  auto applied = ReadSafetensors(out() + "/model.safetensors");
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(Bytes(applied->at("model.embed_tokens.weight")),
            Bytes(embeddings_[apply::kInputEmbeddings].to(at::kBFloat16)));

  auto from_json = tokenizer::LoadTokenizerFile(out() + "/tokenizer.json");
  auto from_model = tokenizer::LoadSentencePieceModel(model_bytes_);
  ASSERT_TRUE(from_json.ok() && from_model.ok());
  for (const char* line : {"Hello world", "  two  spaces ", "日本語のテキスト", "x = f(3) 🙂",
                           "Die Würde des Menschen"}) {
    EXPECT_EQ(*(*from_json)->Encode(line), *(*from_model)->Encode(line)) << line;
  }
}

TEST_F(SentencePieceTargetTest, CorruptOrUnknownTargetsAreRefusedAndLeaveNothingBehind) {
  const std::string corrupt = root_ + "/sp/corrupt.model";
  ASSERT_TRUE(WriteStringToFile(corrupt, model_bytes_.substr(0, model_bytes_.size() / 2)).ok());
  auto truncated = apply::WriteTransferredModel(base(), corrupt, {embeddings_}, out());
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(truncated.status().message()),
              HasSubstr("corrupt.model is not a valid SentencePiece .model"));
  const std::string text = root_ + "/sp/readme.model";
  ASSERT_TRUE(WriteStringToFile(text, "this is not a model\n").ok());
  auto not_a_model = apply::WriteTransferredModel(base(), text, {embeddings_}, out());
  EXPECT_EQ(not_a_model.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(not_a_model.status().message()), HasSubstr("SentencePiece"));
  const std::string other = root_ + "/sp/vocab.txt";
  ASSERT_TRUE(WriteStringToFile(other, "a\nb\n").ok());
  auto txt = apply::WriteTransferredModel(base(), other, {embeddings_}, out());
  EXPECT_EQ(txt.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(txt.status().message()), HasSubstr("tokenizer.json or a SentencePiece"));
  EXPECT_FALSE(fs::exists(out()));
  EXPECT_FALSE(fs::exists(out() + ".partial"));
}

// `zett apply --tokenizer X.model` over loopback transfers for the converted tokenizer.json: the
// checkpoint equals applying the converted file given as a .json target.
TEST_F(SentencePieceTargetTest, ApplyCommandWithAModelTarget) {
  const std::string repository = MakeTempDir("apply_sp_repository");
  WriteTestModelVersion(repository, "m", 1,
                        R"({"hidden_size": 8, "tied": false, "predicts_bias": false,
                            "surface_maxlen": 4})");
  LoopbackServer server(repository);
  const std::string address = absl::StrCat("127.0.0.1:", server.server().port());
  ASSERT_EQ(cli::RunApply({"--server", address, "--model", "m", "--tokenizer", model(), "--base",
                           base(), "--out", out()}),
            0);
  fs::create_directories(root_ + "/converted");
  const std::string json = root_ + "/converted/tokenizer.json";
  ASSERT_TRUE(WriteStringToFile(json, *tokenizer::ConvertSentencePieceModel(model_bytes_)).ok());
  const std::string via_json = root_ + "/via_json";
  ASSERT_EQ(cli::RunApply({"--server", address, "--model", "m", "--tokenizer", json, "--base",
                           base(), "--out", via_json}),
            0);
  EXPECT_EQ(*ReadFileToString(out() + "/model.safetensors"),
            *ReadFileToString(via_json + "/model.safetensors"));
  EXPECT_EQ(*ReadFileToString(out() + "/tokenizer.json"), *ReadFileToString(json));
  auto config = ReadJsonFile(out() + "/config.json");
  ASSERT_TRUE(config.ok());
  EXPECT_EQ((*config)["vocab_size"], 4096);

  const std::string corrupt = root_ + "/sp/corrupt.model";
  ASSERT_TRUE(WriteStringToFile(corrupt, "\x0a\x05\x0a\x01").ok());
  EXPECT_EQ(cli::RunApply({"--server", address, "--model", "m", "--tokenizer", corrupt, "--base",
                           base(), "--out", root_ + "/x"}),
            1);
  EXPECT_FALSE(fs::exists(root_ + "/x"));
}

}  // namespace
}  // namespace zett::testing
