// The error matrix of zett.v1 over loopback: each bad request gets its own gRPC code and a
// message that names what and where, a corrupt version FAILS while the others serve, limits
// answer RESOURCE_EXHAUSTED, and deadlines and cancellation stop the queued work and Prepare.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "tests/server/loopback.h"

namespace zett::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kTied[] = R"({"hidden_size": 16, "tied": true, "surface_maxlen": 4})";
// 64 columns, 0.5 ms per row: a 4000-token transfer takes about 2 s of "device" time.
constexpr char kSlow[] = R"({"hidden_size": 64, "tied": true, "surface_maxlen": 4,
                             "predict_delay_us_per_row": 500})";

class ErrorsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new std::string(MakeTempDir("errors_test"));
    WriteTestModelVersion(*root_, "tied", 1, kTied);
    // Version 2 is corrupted after its manifest was written: one byte of weights.bin flipped.
    const std::string corrupt = WriteTestModelVersion(*root_, "tied", 2, kTied);
    std::fstream weights(corrupt + "/weights.bin", std::ios::in | std::ios::out | std::ios::binary);
    weights.seekp(100);
    weights.put('\x7f');
    weights.close();
    // Version 3 lost a file.
    const std::string truncated = WriteTestModelVersion(*root_, "tied", 3, kTied);
    std::filesystem::resize_file(truncated + "/weights.bin", 10);
    WriteTestModelVersion(*root_, "slow", 1, kSlow);
    server::ServerOptions options;
    options.service.limits.max_vocab = 5000;
    options.service.limits.max_surface_bytes = 64 << 10;
    options.service.limits.max_request_bytes = 256 << 10;
    options.cache_bytes = 0;  // every request does the work
    // Device batches of 200 rows (100 ms of "device" time): a cancel or a deadline finds most of
    // a 4000-row transfer still queued.
    options.max_batch_rows = 200;
    server_ = new LoopbackServer(*root_, options);
  }
  static void TearDownTestSuite() {
    delete server_;
    delete root_;
  }

  static grpc::Status Transfer(const v1::TransferRequest& request,
                               StreamedTransfer* out = nullptr) {
    grpc::ClientContext context;
    StreamedTransfer stream = RunTransfer(server_->stub(), request, &context);
    if (out != nullptr) *out = stream;
    return stream.status;
  }

  static std::string* root_;
  static LoopbackServer* server_;
};

std::string* ErrorsTest::root_ = nullptr;
LoopbackServer* ErrorsTest::server_ = nullptr;

TEST_F(ErrorsTest, UnknownModelOrVersionIsNotFound) {
  grpc::Status status = Transfer(TokenListRequest("no-such-model", 3));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("no-such-model"));
  v1::TransferRequest request = TokenListRequest("tied", 3);
  request.set_version(9);
  status = Transfer(request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(status.error_message(), HasSubstr("version 9"));
  v1::GetModelRequest get;
  get.set_model("no-such-model");
  v1::ModelInfo info;
  grpc::ClientContext context;
  EXPECT_EQ(server_->stub().GetModel(&context, get, &info).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ErrorsTest, CorruptVersionsFailWhileTheOtherServes) {
  v1::GetModelRequest get;
  get.set_model("tied");
  v1::ModelInfo info;
  grpc::ClientContext context;
  ASSERT_TRUE(server_->stub().GetModel(&context, get, &info).ok());
  ASSERT_EQ(info.versions_size(), 3);
  EXPECT_EQ(info.versions(0).state(), v1::VERSION_STATE_AVAILABLE);
  EXPECT_EQ(info.versions(1).state(), v1::VERSION_STATE_FAILED);
  EXPECT_THAT(info.versions(1).reason(), HasSubstr("weights.bin: SHA-256"));
  EXPECT_EQ(info.versions(2).state(), v1::VERSION_STATE_FAILED);
  EXPECT_THAT(info.versions(2).reason(), HasSubstr("weights.bin: size 10 bytes"));

  // Latest-available resolves to version 1; asking for a failed one says why.
  StreamedTransfer stream;
  ASSERT_TRUE(Transfer(TokenListRequest("tied", 4), &stream).ok());
  EXPECT_EQ(stream.header.version(), 1);
  v1::TransferRequest request = TokenListRequest("tied", 4);
  request.set_version(2);
  const grpc::Status status = Transfer(request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("SHA-256"));
}

TEST_F(ErrorsTest, MalformedInputIsInvalidArgumentSayingWhere) {
  struct Case {
    std::string name;
    v1::TransferRequest request;
    std::string where;
  };
  std::vector<Case> cases;
  {
    v1::TransferRequest r;
    r.set_model("tied");
    cases.push_back({"no tokenizer", r, "tokenizer: none of"});
  }
  {
    v1::TransferRequest r;
    r.set_model("tied");
    r.set_tokenizer_json("{\"model\": {\"vocab\": [1, 2,");
    cases.push_back({"truncated json", r, "tokenizer_json: not JSON, parse error at byte"});
  }
  {
    v1::TransferRequest r;
    r.set_model("tied");
    r.set_tokenizer_json(R"({"model": {"vocab": {"a": 0, "b": 7}}})");
    cases.push_back({"bad id", r, "model.vocab[\"b\"]"});
  }
  {
    v1::TransferRequest r = TokenListRequest("tied", 3);
    r.mutable_token_list()->set_tokens(1, "");
    cases.push_back({"empty token", r, "token_list.tokens[1]: empty token"});
  }
  {
    v1::TransferRequest r = TokenListRequest("tied", 3);
    r.mutable_token_list()->set_kind(v1::TOKEN_KIND_UNSPECIFIED);
    cases.push_back({"no kind", r, "token_list.kind"});
  }
  {
    v1::TransferRequest r = TokenListRequest("tied", 3);
    r.mutable_options()->add_matrices(v1::MATRIX_INPUT_EMBEDDINGS);
    r.mutable_options()->add_matrices(v1::MATRIX_OUTPUT_EMBEDDINGS);
    cases.push_back({"tied output", r, "options.matrices[1]: MATRIX_OUTPUT_EMBEDDINGS"});
  }
  {
    v1::TransferRequest r = TokenListRequest("tied", 3);
    r.mutable_options()->set_dtype(static_cast<v1::DType>(9));
    cases.push_back({"dtype", r, "options.dtype: unknown value 9"});
  }
  {
    v1::TransferRequest r = TokenListRequest("tied", 3);
    r.mutable_options()->set_language("de");
    cases.push_back({"language", r, "options.language"});
  }
  {
    v1::TransferRequest r = TokenListRequest("", 3);
    cases.push_back({"no model", r, "model: empty"});
  }
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    StreamedTransfer stream;
    const grpc::Status status = Transfer(c.request, &stream);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(c.where));
    EXPECT_FALSE(stream.has_header);
  }
}

// Bytes that are no protobuf message (a truncated field, an invalid tag) get INVALID_ARGUMENT
// naming the expected type, on every method; a valid body sent the same raw way is served.
TEST_F(ErrorsTest, UnparsableRequestBodyIsInvalidArgumentNamingTheMessage) {
  const std::pair<const char*, const char*> methods[] = {
      {"Transfer", "zett.v1.TransferRequest"},
      {"PredictTokens", "zett.v1.PredictTokensRequest"},
      {"ListModels", "zett.v1.ListModelsRequest"},
      {"GetModel", "zett.v1.GetModelRequest"}};
  for (const std::string garbage : {std::string("\x0a\x05"
                                                "ab"),
                                    std::string("\xff\xff\xff\xff\xff")}) {
    for (const auto& [method, type] : methods) {
      SCOPED_TRACE(method);
      const RawCallResult call =
          RawCall(server_->channel(), absl::StrCat("/zett.v1.TokenizerTransfer/", method), garbage);
      EXPECT_EQ(call.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
      EXPECT_THAT(call.status.error_message(),
                  testing::HasSubstr(absl::StrCat("not a valid ", type, " message")));
      EXPECT_FALSE(call.first_reply.has_value());
    }
  }
  v1::GetModelRequest request;
  request.set_model("tied");
  const RawCallResult call = RawCall(server_->channel(), "/zett.v1.TokenizerTransfer/GetModel",
                                     request.SerializeAsString());
  ASSERT_TRUE(call.status.ok()) << call.status.error_message();
  ASSERT_TRUE(call.first_reply.has_value());
  v1::ModelInfo info;
  ASSERT_TRUE(info.ParseFromString(*call.first_reply));
  EXPECT_EQ(info.name(), "tied");
}

TEST_F(ErrorsTest, LimitsAreResourceExhausted) {
  // Vocabulary over max_vocab (5000).
  grpc::Status status = Transfer(TokenListRequest("tied", 5001));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("limit 5000"));
  // Tokens over max_surface_bytes (64 KiB) together; one long token alone is fine.
  v1::TransferRequest request = TokenListRequest("tied", 3);
  request.mutable_token_list()->set_tokens(2, std::string(2048, '-'));
  EXPECT_TRUE(Transfer(request).ok());
  request.mutable_token_list()->set_tokens(2, std::string(65 << 10, '-'));
  status = Transfer(request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("limit 65536"));
  // Request over max_request_bytes (256 KiB): refused by gRPC before any work.
  request = TokenListRequest("tied", 1);
  request.set_tokenizer_json(std::string(300 << 10, ' '));
  status = Transfer(request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  // PredictTokens rows that would not fit one 4 MiB message.
  v1::PredictTokensRequest predict;
  predict.set_model("tied");
  predict.mutable_tokens()->set_kind(v1::TOKEN_KIND_BYTE_LEVEL);
  for (int i = 0; i < 4096; ++i) predict.mutable_tokens()->add_tokens(absl::StrCat("p", i));
  predict.mutable_tokens()->add_tokens("one too many");
  v1::PredictTokensResponse response;
  grpc::ClientContext context;
  status = server_->stub().PredictTokens(&context, predict, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("tokens.tokens: 4097 tokens, limit 4096"));
  // Special tokens are rows too: 10 tokens + 4,087 special tokens are over the same limit.
  predict.mutable_tokens()->clear_tokens();
  for (int i = 0; i < 10; ++i) predict.mutable_tokens()->add_tokens(absl::StrCat("p", i));
  for (int i = 0; i < 4087; ++i) {
    predict.mutable_tokens()->add_special_tokens(absl::StrCat("<s", i, ">"));
  }
  grpc::ClientContext special_context;
  status = server_->stub().PredictTokens(&special_context, predict, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(),
              HasSubstr("tokens: 10 tokens + 4087 special_tokens, limit 4096"));
  // ... and count toward Transfer's vocabulary limit (5000).
  request = TokenListRequest("tied", 4990);
  for (int i = 0; i < 11; ++i) request.mutable_token_list()->add_special_tokens("<x>");
  status = Transfer(request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("4990 tokens + 11 special_tokens, limit 5000"));
  // An empty special token is malformed.
  request = TokenListRequest("tied", 3);
  request.mutable_token_list()->add_special_tokens("");
  status = Transfer(request);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("token_list.special_tokens[0]: empty token"));
}

// A large PredictTokens call runs as device batches of max_batch_rows (200 here, 100 ms of
// "device" time each), queued one after another: a small call that arrives meanwhile runs
// between two of them instead of after all, and the rows are those of one in-process batch.
TEST_F(ErrorsTest, PredictTokensRunsInDeviceBatchesThatOtherCallsGetBetween) {
  v1::PredictTokensRequest predict;
  predict.set_model("slow");
  predict.mutable_tokens()->set_kind(v1::TOKEN_KIND_BYTE_LEVEL);
  for (int i = 0; i < 1000; ++i) predict.mutable_tokens()->add_tokens(absl::StrCat("t", i));
  const auto& model = *server_->loader().Loaded("slow", 1);
  const uint64_t rows_before = model.rows_predicted(), calls_before = model.predict_calls();
  v1::PredictTokensResponse big;
  grpc::Status big_status;
  std::thread big_call([&] {
    grpc::ClientContext context;
    big_status = server_->stub().PredictTokens(&context, predict, &big);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // inside the big call's 2nd batch
  const grpc::Status small = Transfer(TokenListRequest("slow", 3));
  // Rows predicted when the small call has its rows: not yet all 1,000 of the big call.
  const uint64_t rows_when_small_done = model.rows_predicted() - rows_before;
  big_call.join();
  ASSERT_TRUE(big_status.ok()) << big_status.error_message();
  ASSERT_TRUE(small.ok()) << small.error_message();
  EXPECT_LT(rows_when_small_done, 1000u + 3u) << "the small call waited for the whole big one";
  EXPECT_GE(model.predict_calls() - calls_before, 5u) << "1,000 rows in batches of <= 200";

  ASSERT_EQ(big.tokens_size(), 1000);
  ASSERT_EQ(big.rows_size(), 1);
  const v1::Matrix matrix = big.rows(0).matrix();
  const std::map<v1::Matrix, std::string> expected = InProcessRows(
      *server_->loader().Loaded("slow", 1), TokenListRequest("slow", 1000), big.dtype(), {matrix});
  EXPECT_EQ(big.rows(0).data(), expected.at(matrix)) << "batched rows differ from one batch";
}

TEST_F(ErrorsTest, DeadlineStopsTheWork) {
  const auto& model = *server_->loader().Loaded("slow", 1);
  v1::TransferRequest request = TokenListRequest("slow", 4000);
  request.mutable_options()->set_rows_per_chunk(100);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(300));
  const uint64_t before = model.rows_predicted();
  const StreamedTransfer stream = RunTransfer(server_->stub(), request, &context);
  EXPECT_EQ(stream.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  const uint64_t settled = model.rows_predicted();
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(model.rows_predicted(), settled) << "work went on after the deadline";
  EXPECT_LT(settled - before, 4000u / 2);
}

TEST_F(ErrorsTest, CancelMidStreamStopsTheWork) {
  const auto& model = *server_->loader().Loaded("slow", 1);
  v1::TransferRequest request = TokenListRequest("slow", 4000);
  request.mutable_options()->set_rows_per_chunk(100);
  const uint64_t before = model.rows_predicted();
  grpc::ClientContext context;
  auto reader = server_->stub().Transfer(&context, request);
  v1::TransferResponse response;
  int row_blocks = 0;
  while (reader->Read(&response)) {
    if (response.has_rows() && ++row_blocks == 2) break;
  }
  ASSERT_EQ(row_blocks, 2);
  context.TryCancel();
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  const uint64_t settled = model.rows_predicted();
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(model.rows_predicted(), settled) << "work went on after the cancel";
  EXPECT_LT(settled - before, 4000u / 2);
}

TEST_F(ErrorsTest, TooManyConcurrentRequestsIsResourceExhausted) {
  const std::string root = MakeTempDir("errors_concurrency");
  WriteTestModelVersion(root, "slow", 1, kSlow);
  server::ServerOptions options;
  options.service.limits.max_concurrent_requests = 1;
  LoopbackServer busy(root, options);
  grpc::ClientContext first;
  auto reader = busy.stub().Transfer(&first, TokenListRequest("slow", 4000));
  v1::TransferResponse response;
  ASSERT_TRUE(reader->Read(&response));  // the header: the first call holds the only slot
  ASSERT_TRUE(response.has_header());
  grpc::ClientContext second;
  const StreamedTransfer refused = RunTransfer(busy.stub(), TokenListRequest("slow", 3), &second);
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(refused.status.error_message(), HasSubstr("max_concurrent_requests"));
  first.TryCancel();
  reader->Finish();
}

// A client that reads the header and then nothing: its stream is cut after the write timeout
// and its admission slot goes to the next caller.
TEST(WriteTimeoutTest, AClientThatStopsReadingIsCutAndItsSlotFreed) {
  const std::string root = MakeTempDir("errors_write_timeout");
  // 256 fp32 columns: 40,000 rows are 41 MB, far more than the transport buffers hold.
  WriteTestModelVersion(root, "wide", 1,
                        R"({"hidden_size": 256, "tied": true, "surface_maxlen": 4})");
  server::ServerOptions options;
  options.service.limits.max_concurrent_requests = 1;
  options.service.write_timeout_seconds = 0.5;
  options.cache_bytes = 0;
  LoopbackServer server(root, options);

  v1::TransferRequest big = TokenListRequest("wide", 40000);
  big.mutable_options()->set_dtype(v1::DTYPE_FP32);
  grpc::ClientContext stalled;
  auto reader = server.stub().Transfer(&stalled, big);
  v1::TransferResponse response;
  ASSERT_TRUE(reader->Read(&response));  // the header; then this client reads nothing
  ASSERT_TRUE(response.has_header());

  // Admitted within a few seconds: the stalled stream held the only slot until it was cut.
  const auto start = std::chrono::steady_clock::now();
  grpc::Status status;
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    grpc::ClientContext context;
    status = RunTransfer(server.stub(), TokenListRequest("wide", 3), &context).status;
  } while (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
           std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  stalled.TryCancel();
  reader->Finish();
}

// 1 ms per token in Prepare: a 1500-token transfer spends about 1.5 s there.
constexpr char kSlowPrepare[] = R"({"hidden_size": 8, "tied": true, "surface_maxlen": 4,
                                    "prepare_delay_us_per_token": 1000})";
constexpr uint64_t kSlowPrepareTokens = 1500;

// Blocks until the model's Prepare has gone through `tokens` tokens (bounded: fails the test
// instead of hanging when Prepare never starts).
void AwaitTokensPrepared(const DeterministicTestModel& model, uint64_t tokens) {
  for (int i = 0; i < 10000 && model.tokens_prepared() < tokens; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_GE(model.tokens_prepared(), tokens) << "Prepare did not start";
}

// Tokens prepared once the work settled: the count must stop growing.
uint64_t SettledTokensPrepared(const DeterministicTestModel& model) {
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const uint64_t settled = model.tokens_prepared();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(model.tokens_prepared(), settled) << "Prepare went on after the call ended";
  return settled;
}

TEST(PrepareInterruptTest, CancelDuringPrepareStopsItCachesNothingAndTheServerGoesOn) {
  const std::string root = MakeTempDir("errors_prepare_cancel");
  WriteTestModelVersion(root, "prep", 1, kSlowPrepare);
  LoopbackServer server(root);  // result cache on (default size)
  const auto& model = *server.loader().Loaded("prep", 1);
  const v1::TransferRequest request =
      TokenListRequest("prep", static_cast<int>(kSlowPrepareTokens));

  grpc::ClientContext context;
  std::thread canceller([&] {
    AwaitTokensPrepared(model, 100);
    context.TryCancel();
  });
  const StreamedTransfer cancelled = RunTransfer(server.stub(), request, &context);
  canceller.join();
  EXPECT_EQ(cancelled.status.error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_FALSE(cancelled.has_header);
  const uint64_t settled = SettledTokensPrepared(model);
  EXPECT_LT(settled, kSlowPrepareTokens / 2) << "the cancel did not stop Prepare";
  EXPECT_EQ(model.predict_calls(), 0u) << "a cancelled Prepare reached the device queue";
  EXPECT_EQ(HealthCheck(server.channel(), ""), 1);

  // The same request again: nothing was cached by the cancelled call, so it is computed in
  // full; a third call is then served from the cache.
  for (bool expect_hit : {false, true}) {
    grpc::ClientContext again;
    const StreamedTransfer full = RunTransfer(server.stub(), request, &again);
    ASSERT_TRUE(full.status.ok()) << full.status.error_message();
    EXPECT_EQ(full.header.cache_hit(), expect_hit);
    EXPECT_EQ(full.vocabulary.size(), kSlowPrepareTokens);
    EXPECT_TRUE(full.has_trailer);
  }
  EXPECT_EQ(model.tokens_prepared(), settled + kSlowPrepareTokens);
}

TEST(PrepareInterruptTest, DeadlineDuringPrepareStopsIt) {
  const std::string root = MakeTempDir("errors_prepare_deadline");
  WriteTestModelVersion(root, "prep", 1, kSlowPrepare);
  LoopbackServer server(root);
  const auto& model = *server.loader().Loaded("prep", 1);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
  const StreamedTransfer expired = RunTransfer(
      server.stub(), TokenListRequest("prep", static_cast<int>(kSlowPrepareTokens)), &context);
  EXPECT_EQ(expired.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_LT(SettledTokensPrepared(model), kSlowPrepareTokens / 2)
      << "the deadline did not stop Prepare";
  EXPECT_EQ(model.predict_calls(), 0u);

  // A small request right after is served.
  grpc::ClientContext next;
  const StreamedTransfer served = RunTransfer(server.stub(), TokenListRequest("prep", 20), &next);
  ASSERT_TRUE(served.status.ok()) << served.status.error_message();
  EXPECT_EQ(served.vocabulary.size(), 20u);
}

}  // namespace
}  // namespace zett::testing
