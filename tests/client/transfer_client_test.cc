// The client library against a loopback zett-server: reassembled and verified matrices equal
// the engine's rows, embeddings.safetensors and vocabulary.json read back to the same bytes,
// tampered or incomplete streams are refused, and the CLI commands work end to end.
#include "client/remote/transfer_client.h"

#include <ATen/ATen.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "client/remote/bench_command.h"
#include "client/remote/embeddings_writer.h"
#include "client/remote/health_check.h"
#include "client/remote/server_commands.h"
#include "core/io/safetensors.h"
#include "core/io/sha256.h"
#include "proto/wire/tensor_names.h"
#include "tests/server/loopback.h"

namespace zett::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kUntied[] = R"({"hidden_size": 8, "tied": false, "predicts_bias": true,
                               "surface_maxlen": 4})";

class TransferClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new std::string(MakeTempDir("client_test"));
    WriteTestModelVersion(*root_, "untied", 1, kUntied);
    server_ = new LoopbackServer(*root_);
  }
  static void TearDownTestSuite() {
    delete server_;
    delete root_;
  }
  static std::string Address() { return absl::StrCat("127.0.0.1:", server_->server().port()); }
  static client::TransferClient Client() {
    client::ClientOptions options;
    options.address = Address();
    options.timeout = absl::Seconds(30);
    return client::TransferClient(*client::MakeChannel(options), options);
  }

  static std::string* root_;
  static LoopbackServer* server_;
};

std::string* TransferClientTest::root_ = nullptr;
LoopbackServer* TransferClientTest::server_ = nullptr;

TEST_F(TransferClientTest, TransferWritesSafetensorsWithTheEngineBytes) {
  v1::TransferRequest request = TokenListRequest("untied", 77);
  request.mutable_options()->set_dtype(v1::DTYPE_BF16);
  request.mutable_options()->set_rows_per_chunk(10);
  uint64_t last_progress = 0;
  auto result = Client().Transfer(request, [&](uint64_t done, uint64_t total) {
    EXPECT_GT(done, last_progress);
    EXPECT_EQ(total, 3u * 77);
    last_progress = done;
  });
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(last_progress, 3u * 77);
  const auto expected = InProcessRows(
      *server_->loader().Loaded("untied", 1), request, v1::DTYPE_BF16,
      {v1::MATRIX_INPUT_EMBEDDINGS, v1::MATRIX_OUTPUT_EMBEDDINGS, v1::MATRIX_OUTPUT_BIAS});
  for (const auto& [matrix, bytes] : expected) {
    EXPECT_TRUE(result->matrices.at(matrix).bytes == bytes) << v1::Matrix_Name(matrix);
  }

  const std::string out = MakeTempDir("client_out");
  ASSERT_TRUE(client::WriteTransferResult(out, *result).ok());
  SafetensorsMetadata metadata;
  absl::StatusOr<TensorMap> tensors =
      ReadSafetensors(absl::StrCat(out, "/", client::kEmbeddingsFile), &metadata);
  ASSERT_TRUE(tensors.ok()) << tensors.status();
  ASSERT_EQ(tensors->size(), 3u);
  const at::Tensor& input = tensors->at("input_embeddings");
  EXPECT_EQ(input.scalar_type(), at::kBFloat16);
  EXPECT_EQ(input.sizes(), (at::IntArrayRef{77, 8}));
  EXPECT_EQ(tensors->at("output_bias").sizes(), (at::IntArrayRef{77}));
  for (const auto& [matrix, bytes] : expected) {
    const at::Tensor t = tensors->at(wire::TensorName(matrix)).contiguous();
    ASSERT_EQ(static_cast<size_t>(t.nbytes()), bytes.size());
    EXPECT_EQ(std::memcmp(t.data_ptr(), bytes.data(), bytes.size()), 0);
  }
  EXPECT_EQ(metadata.at("zett_model"), "untied");
  EXPECT_EQ(metadata.at("zett_dtype"), "bf16");

  std::ifstream vocabulary_file(absl::StrCat(out, "/", client::kVocabularyFile));
  const nlohmann::json vocabulary = nlohmann::json::parse(vocabulary_file);
  ASSERT_EQ(vocabulary.size(), 77u);
  EXPECT_EQ(vocabulary[5]["id"], 5);
  EXPECT_EQ(vocabulary[5]["token"], request.token_list().tokens(5));
}

TEST_F(TransferClientTest, ServerErrorsKeepTheirCode) {
  auto result = Client().Transfer(TokenListRequest("missing", 3));
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("Transfer: model 'missing'"));
  EXPECT_EQ(Client().GetModel("missing").status().code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(Client().ListModels().ok());
  EXPECT_EQ(Client().ListModels()->models_size(), 1);
}

TEST_F(TransferClientTest, HealthChecks) {
  auto channel = server_->channel();
  EXPECT_EQ(*client::CheckHealth(channel, "", absl::Seconds(5)), client::HealthStatus::kServing);
  EXPECT_EQ(*client::CheckHealth(channel, "zett.v1.TokenizerTransfer", absl::Seconds(5)),
            client::HealthStatus::kServing);
  EXPECT_EQ(client::CheckHealth(channel, "nope", absl::Seconds(5)).status().code(),
            absl::StatusCode::kNotFound);
}

// A valid two-matrix stream, built by hand.
std::vector<v1::TransferResponse> HandMadeStream() {
  std::vector<v1::TransferResponse> stream(1);
  v1::TransferHeader* header = stream[0].mutable_header();
  header->set_dtype(v1::DTYPE_FP16);
  header->set_vocab_size(3);
  for (v1::Matrix m : {v1::MATRIX_INPUT_EMBEDDINGS, v1::MATRIX_OUTPUT_BIAS}) {
    v1::MatrixShape* shape = header->add_shapes();
    shape->set_matrix(m);
    shape->set_rows(3);
    shape->set_cols(m == v1::MATRIX_OUTPUT_BIAS ? 1 : 2);
  }
  stream.emplace_back();
  for (int i = 0; i < 3; ++i) stream.back().mutable_vocabulary()->add_tokens()->set_id(i);
  std::map<v1::Matrix, std::string> all;
  for (uint64_t first : {0, 2}) {
    for (v1::Matrix m : {v1::MATRIX_INPUT_EMBEDDINGS, v1::MATRIX_OUTPUT_BIAS}) {
      const uint64_t rows = first == 0 ? 2 : 1;
      const uint64_t cols = m == v1::MATRIX_OUTPUT_BIAS ? 1 : 2;
      std::string data;
      for (uint64_t i = 0; i < rows * cols * 2; ++i)
        data.push_back(static_cast<char>(first + i + m));
      all[m] += data;
      stream.emplace_back();
      v1::RowBlock* block = stream.back().mutable_rows();
      block->set_matrix(m);
      block->set_first_row(first);
      block->set_num_rows(rows);
      block->set_data(data);
    }
  }
  stream.emplace_back();
  for (const auto& [m, bytes] : all) {
    v1::MatrixChecksum* checksum = stream.back().mutable_trailer()->add_checksums();
    checksum->set_matrix(m);
    checksum->set_sha256(io::Sha256Digest(bytes));
  }
  return stream;
}

absl::Status Assemble(const std::vector<v1::TransferResponse>& stream) {
  client::StreamAssembler assembler;
  for (const v1::TransferResponse& message : stream) {
    if (absl::Status status = assembler.Add(message); !status.ok()) return status;
  }
  return assembler.Finish().status();
}

TEST(StreamAssemblerTest, AcceptsAValidStreamAndRefusesDamagedOnes) {
  ASSERT_TRUE(Assemble(HandMadeStream()).ok()) << Assemble(HandMadeStream());

  std::vector<v1::TransferResponse> flipped = HandMadeStream();
  (*flipped[3].mutable_rows()->mutable_data())[0] ^= 1;
  EXPECT_EQ(Assemble(flipped).code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(Assemble(flipped).message()), HasSubstr("checksum: MATRIX_OUTPUT_BIAS"));

  std::vector<v1::TransferResponse> missing = HandMadeStream();
  missing.erase(missing.begin() + 4);  // the second input-embeddings block
  EXPECT_THAT(std::string(Assemble(missing).message()),
              HasSubstr("MATRIX_INPUT_EMBEDDINGS has 2 of 3 rows"));

  std::vector<v1::TransferResponse> reordered = HandMadeStream();
  std::swap(reordered[2], reordered[4]);
  EXPECT_THAT(std::string(Assemble(reordered).message()), HasSubstr("expected row 0"));

  std::vector<v1::TransferResponse> short_block = HandMadeStream();
  short_block[2].mutable_rows()->mutable_data()->pop_back();
  EXPECT_THAT(std::string(Assemble(short_block).message()),
              HasSubstr("7 bytes); expected row 0 and 8 bytes"));

  std::vector<v1::TransferResponse> no_trailer = HandMadeStream();
  no_trailer.pop_back();
  EXPECT_THAT(std::string(Assemble(no_trailer).message()), HasSubstr("without header or trailer"));
}

TEST_F(TransferClientTest, CommandsRunEndToEnd) {
  const std::string dir = MakeTempDir("client_cli");
  const std::string tokens = dir + "/tokens.txt";
  std::ofstream(tokens) << "Ġhello\nĠworld\n!\n";
  const std::string out = dir + "/out";
  EXPECT_EQ(cli::RunTransfer({"--server", Address(), "--model", "untied", "--tokenizer", tokens,
                              "--out", out, "--dtype", "fp16"}),
            0);
  absl::StatusOr<TensorMap> tensors = ReadSafetensors(out + "/embeddings.safetensors");
  ASSERT_TRUE(tensors.ok()) << tensors.status();
  EXPECT_EQ(tensors->at("output_embeddings").sizes(), (at::IntArrayRef{3, 8}));
  EXPECT_EQ(tensors->at("output_embeddings").scalar_type(), at::kHalf);
  EXPECT_EQ(cli::RunTransfer(
                {"--server", Address(), "--model", "missing", "--tokenizer", tokens, "--out", out}),
            1);
  EXPECT_EQ(cli::RunTransfer({"--server", Address(), "--model", "untied"}), 1);
  EXPECT_EQ(cli::RunModels({"--server", Address()}), 0);
  EXPECT_EQ(cli::RunModels({"--server", Address(), "--model", "missing"}), 1);
  EXPECT_EQ(cli::RunHealth({"--server", Address()}), 0);
  EXPECT_EQ(cli::RunBench({"--server", Address(), "--model", "untied", "--tokenizer", tokens,
                           "--streams", "2", "--seconds", "0.3"}),
            0);
  EXPECT_EQ(cli::RunBench({"--server", Address(), "--model", "untied", "--tokenizer", tokens,
                           "--rpc", "predict_tokens", "--streams", "1", "--seconds", "0.2"}),
            0);
  EXPECT_EQ(cli::RunBench({"--server", Address(), "--model", "missing", "--tokenizer", tokens,
                           "--seconds", "0.1"}),
            1);
  EXPECT_EQ(cli::RunHealth({"--server", Address(), "--service", "nope"}), 1);
}

}  // namespace
}  // namespace zett::testing
