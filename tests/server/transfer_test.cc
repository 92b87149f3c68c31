// Transfer and PredictTokens over loopback: the reassembled stream equals the engine's own
// in-process rows bit for bit (fp32, bf16, fp16), checksums match, every message fits gRPC's
// default 4 MiB receive limit, concurrent clients get their own rows, and a repeated request is
// served from the cache with identical bytes.
#include <gtest/gtest.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "core/io/sha256.h"
#include "tests/server/loopback.h"

namespace zett::testing {
namespace {

constexpr char kUntied[] = R"({"hidden_size": 8, "tied": false, "predicts_bias": true,
                               "surface_maxlen": 4})";
constexpr char kWide[] = R"({"hidden_size": 4096, "tied": true, "surface_maxlen": 3})";

class TransferTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new std::string(MakeTempDir("transfer_test"));
    WriteTestModelVersion(*root_, "untied", 1, kUntied);
    WriteTestModelVersion(*root_, "untied", 2, kUntied);
    WriteTestModelVersion(*root_, "wide", 1, kWide);
    server_ = new LoopbackServer(*root_);
  }
  static void TearDownTestSuite() {
    delete server_;
    delete root_;
  }

  static std::string* root_;
  static LoopbackServer* server_;
};

std::string* TransferTest::root_ = nullptr;
LoopbackServer* TransferTest::server_ = nullptr;

void ExpectStreamMatchesEngine(LoopbackServer& loopback, const v1::TransferRequest& request,
                               const std::string& model, int64_t version, v1::DType dtype) {
  grpc::ClientContext context;
  const StreamedTransfer stream = RunTransfer(loopback.stub(), request, &context);
  ASSERT_TRUE(stream.status.ok()) << stream.status.error_message();
  EXPECT_EQ(stream.order_error, "");
  ASSERT_TRUE(stream.has_header && stream.has_trailer);
  EXPECT_EQ(stream.header.version(), version);
  EXPECT_EQ(stream.header.dtype(), dtype);
  EXPECT_LE(stream.largest_message_bytes, 4u << 20);

  std::vector<v1::Matrix> matrices;
  for (const v1::MatrixShape& shape : stream.header.shapes()) matrices.push_back(shape.matrix());
  const auto expected =
      InProcessRows(*loopback.loader().Loaded(model, version), request, dtype, matrices);
  ASSERT_EQ(stream.vocabulary.size(), stream.header.vocab_size());
  for (const v1::MatrixShape& shape : stream.header.shapes()) {
    const std::string& got = stream.matrices.at(shape.matrix());
    EXPECT_EQ(got.size(), shape.rows() * shape.cols() * (dtype == v1::DTYPE_FP32 ? 4 : 2));
    EXPECT_TRUE(got == expected.at(shape.matrix())) << v1::Matrix_Name(shape.matrix());
  }
  ASSERT_EQ(stream.trailer.checksums_size(), stream.header.shapes_size());
  for (const v1::MatrixChecksum& checksum : stream.trailer.checksums()) {
    EXPECT_EQ(checksum.sha256(), io::Sha256Digest(stream.matrices.at(checksum.matrix())));
  }
  EXPECT_EQ(stream.trailer.vocab_size(), stream.vocabulary.size());
  // Per-phase times: each phase within the whole call.
  const v1::TransferTrailer& t = stream.trailer;
  for (double phase : {t.parse_seconds(), t.decompose_seconds(), t.queue_seconds(),
                       t.predict_seconds(), t.stream_seconds()}) {
    EXPECT_GE(phase, 0);
    EXPECT_LE(phase, t.total_seconds());
  }
  EXPECT_GT(t.stream_seconds(), 0) << "the header and row blocks were written before the trailer";
}

TEST_F(TransferTest, StreamEqualsEngineRowsInEveryDType) {
  for (v1::DType dtype : {v1::DTYPE_FP32, v1::DTYPE_BF16, v1::DTYPE_FP16}) {
    v1::TransferRequest request = TokenListRequest("untied", 300);
    request.mutable_options()->set_dtype(dtype);
    request.mutable_options()->set_rows_per_chunk(64);  // several blocks per matrix
    SCOPED_TRACE(v1::DType_Name(dtype));
    ExpectStreamMatchesEngine(*server_, request, "untied", 2, dtype);
  }
}

TEST_F(TransferTest, VocabularyTableCarriesFlagsInIdOrder) {
  v1::TransferRequest request = TokenListRequest("untied", 5);
  request.mutable_token_list()->set_tokens(3, "<s>");
  request.mutable_token_list()->add_special_tokens("<s>");
  request.mutable_token_list()->set_tokens(4, "Ġlonger_than_four");
  grpc::ClientContext context;
  const StreamedTransfer stream = RunTransfer(server_->stub(), request, &context);
  ASSERT_TRUE(stream.status.ok()) << stream.status.error_message();
  ASSERT_EQ(stream.vocabulary.size(), 5u);
  for (uint32_t id = 0; id < 5; ++id) {
    EXPECT_EQ(stream.vocabulary[id].id(), id);
    EXPECT_EQ(stream.vocabulary[id].token(), request.token_list().tokens(id));
  }
  EXPECT_TRUE(stream.vocabulary[3].special() && stream.vocabulary[3].copied());
  EXPECT_FALSE(stream.vocabulary[0].special());
  EXPECT_TRUE(stream.vocabulary[4].truncated());
  EXPECT_EQ(stream.trailer.truncated_tokens(), 1u);
}

TEST_F(TransferTest, TokenizerJsonAndSelectedMatrices) {
  v1::TransferRequest request;
  request.set_model("untied");
  request.set_version(1);
  request.set_tokenizer_json(R"({"model": {"vocab": {"a": 2, "Ġb": 0, "cc": 1}}})");
  request.mutable_options()->add_matrices(v1::MATRIX_OUTPUT_BIAS);
  grpc::ClientContext context;
  const StreamedTransfer stream = RunTransfer(server_->stub(), request, &context);
  ASSERT_TRUE(stream.status.ok()) << stream.status.error_message();
  ASSERT_EQ(stream.header.shapes_size(), 1);
  EXPECT_EQ(stream.header.shapes(0).matrix(), v1::MATRIX_OUTPUT_BIAS);
  EXPECT_EQ(stream.header.shapes(0).cols(), 1u);
  ASSERT_EQ(stream.vocabulary.size(), 3u);
  EXPECT_EQ(stream.vocabulary[0].token(), "Ġb");
  ExpectStreamMatchesEngine(*server_, request, "untied", 1, v1::DTYPE_FP32);
}

TEST_F(TransferTest, WideRowsAreSplitUnderFourMebibytes) {
  v1::TransferRequest request = TokenListRequest("wide", 600);  // 600 × 4096 × 4 B = 9.4 MiB
  grpc::ClientContext context;
  const StreamedTransfer stream = RunTransfer(server_->stub(), request, &context);
  ASSERT_TRUE(stream.status.ok()) << stream.status.error_message();
  EXPECT_LE(stream.largest_message_bytes, 4u << 20);
  EXPECT_GT(stream.header.max_rows_per_block(), 0u);
  EXPECT_LT(stream.header.max_rows_per_block(), 600u);
  ExpectStreamMatchesEngine(*server_, request, "wide", 1, v1::DTYPE_FP32);
}

TEST_F(TransferTest, ConcurrentClientsGetTheirOwnRows) {
  constexpr int kClients = 6;
  std::vector<StreamedTransfer> streams(kClients);
  std::vector<v1::TransferRequest> requests;
  for (int c = 0; c < kClients; ++c) {
    v1::TransferRequest request = TokenListRequest("untied", 200 + 37 * c);
    request.mutable_token_list()->set_tokens(0, absl::StrCat("client", c));
    request.mutable_options()->set_rows_per_chunk(16);
    requests.push_back(request);
  }
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      grpc::ClientContext context;
      streams[c] = RunTransfer(server_->stub(), requests[c], &context);
    });
  }
  for (std::thread& t : threads) t.join();
  const auto& model = *server_->loader().Loaded("untied", 2);
  for (int c = 0; c < kClients; ++c) {
    ASSERT_TRUE(streams[c].status.ok()) << streams[c].status.error_message();
    const auto expected = InProcessRows(
        model, requests[c], v1::DTYPE_FP32,
        {v1::MATRIX_INPUT_EMBEDDINGS, v1::MATRIX_OUTPUT_EMBEDDINGS, v1::MATRIX_OUTPUT_BIAS});
    for (const auto& [matrix, bytes] : expected) {
      EXPECT_TRUE(streams[c].matrices.at(matrix) == bytes) << "client " << c;
    }
  }
}

TEST_F(TransferTest, RepeatedRequestIsACacheHitWithIdenticalBytes) {
  v1::TransferRequest request = TokenListRequest("untied", 123);
  request.mutable_token_list()->set_tokens(0, "cache-me");
  request.mutable_options()->set_dtype(v1::DTYPE_BF16);
  grpc::ClientContext first_context;
  const StreamedTransfer first = RunTransfer(server_->stub(), request, &first_context);
  const uint64_t predicted = server_->loader().Loaded("untied", 2)->rows_predicted();
  grpc::ClientContext second_context;
  const StreamedTransfer second = RunTransfer(server_->stub(), request, &second_context);
  ASSERT_TRUE(first.status.ok() && second.status.ok());
  EXPECT_FALSE(first.header.cache_hit());
  EXPECT_TRUE(second.header.cache_hit());
  EXPECT_EQ(server_->loader().Loaded("untied", 2)->rows_predicted(), predicted);
  EXPECT_TRUE(first.matrices == second.matrices);
  ASSERT_EQ(first.trailer.checksums_size(), second.trailer.checksums_size());
  for (int i = 0; i < first.trailer.checksums_size(); ++i) {
    EXPECT_EQ(first.trailer.checksums(i).sha256(), second.trailer.checksums(i).sha256());
  }
  // bypass_cache neither reads nor fills the cache.
  request.mutable_options()->set_bypass_cache(true);
  grpc::ClientContext bypass_context;
  const StreamedTransfer bypassed = RunTransfer(server_->stub(), request, &bypass_context);
  EXPECT_FALSE(bypassed.header.cache_hit());
  EXPECT_TRUE(bypassed.matrices == first.matrices);
  EXPECT_GT(server_->loader().Loaded("untied", 2)->rows_predicted(), predicted);
  request.mutable_options()->set_bypass_cache(false);
  // A different dtype is a different entry.
  request.mutable_options()->set_dtype(v1::DTYPE_FP16);
  grpc::ClientContext third_context;
  EXPECT_FALSE(RunTransfer(server_->stub(), request, &third_context).header.cache_hit());
}

TEST_F(TransferTest, PredictTokensMatchesTransferRows) {
  v1::PredictTokensRequest request;
  request.set_model("untied");
  request.mutable_tokens()->set_kind(v1::TOKEN_KIND_BYTE_LEVEL);
  for (const char* token : {"Ġnew", "Ġtok", "ens"}) request.mutable_tokens()->add_tokens(token);
  request.mutable_options()->set_dtype(v1::DTYPE_FP16);
  v1::PredictTokensResponse response;
  grpc::ClientContext context;
  ASSERT_TRUE(server_->stub().PredictTokens(&context, request, &response).ok());
  ASSERT_EQ(response.tokens_size(), 3);
  v1::TransferRequest as_transfer;
  as_transfer.set_model("untied");
  *as_transfer.mutable_token_list() = request.tokens();
  std::vector<v1::Matrix> matrices;
  for (const v1::RowBlock& block : response.rows()) matrices.push_back(block.matrix());
  const auto expected =
      InProcessRows(*server_->loader().Loaded("untied", 2), as_transfer, v1::DTYPE_FP16, matrices);
  for (const v1::RowBlock& block : response.rows()) {
    EXPECT_EQ(block.num_rows(), 3u);
    EXPECT_TRUE(block.data() == expected.at(block.matrix()));
  }
}

TEST_F(TransferTest, ListAndGetModelReportVersionsAndMetadata) {
  v1::ListModelsResponse list;
  grpc::ClientContext list_context;
  ASSERT_TRUE(server_->stub().ListModels(&list_context, {}, &list).ok());
  ASSERT_EQ(list.models_size(), 2);
  EXPECT_EQ(list.models(0).name(), "untied");
  EXPECT_EQ(list.models(1).name(), "wide");
  v1::GetModelRequest get;
  get.set_model("untied");
  v1::ModelInfo info;
  grpc::ClientContext get_context;
  ASSERT_TRUE(server_->stub().GetModel(&get_context, get, &info).ok());
  EXPECT_EQ(info.hidden_size(), 8u);
  EXPECT_TRUE(info.predicts_bias());
  EXPECT_FALSE(info.tied_embeddings());
  ASSERT_EQ(info.versions_size(), 2);
  for (const v1::ModelVersion& version : info.versions()) {
    EXPECT_EQ(version.state(), v1::VERSION_STATE_AVAILABLE);
    // The SHA-256 of the version's manifest.json, as a client could compute it.
    const std::string manifest =
        absl::StrCat(*root_, "/untied/", version.version(), "/manifest.json");
    absl::StatusOr<io::FileDigest> digest = io::Sha256File(manifest);
    ASSERT_TRUE(digest.ok()) << digest.status();
    EXPECT_EQ(version.manifest_sha256(), digest->sha256_hex);
  }
  // Every limit the server checks, with the values it was started with.
  EXPECT_EQ(info.limits().max_vocab(), server::ServiceLimits().max_vocab);
  EXPECT_EQ(info.limits().max_predict_tokens(), server::ServiceLimits().max_predict_tokens);
  EXPECT_EQ(info.limits().max_surface_bytes(), server::ServiceLimits().max_surface_bytes);
  EXPECT_EQ(info.limits().max_request_bytes(), server::ServiceLimits().max_request_bytes);
  EXPECT_EQ(info.limits().max_message_bytes(), server::ServiceLimits().max_message_bytes);
  EXPECT_EQ(info.limits().max_batch_rows(), server_->server().queue().max_batch_rows());
  EXPECT_GT(info.limits().write_timeout_seconds(), 0);
  EXPECT_EQ(list.models(1).limits().max_vocab(), info.limits().max_vocab());
}

}  // namespace
}  // namespace zett::testing
