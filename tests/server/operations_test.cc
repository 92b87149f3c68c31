// Operating the server: grpc.health.v1 goes NOT_SERVING → SERVING when the models are loaded,
// reflection lists the service, metrics count requests (and a busy metrics port does not stop
// the server), a taken gRPC port does, the bearer token is enforced, and a drain lets in-flight
// calls finish.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "tests/server/loopback.h"

namespace zett::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kSmall[] = R"({"hidden_size": 4, "tied": true, "surface_maxlen": 2})";
constexpr char kSlow[] = R"({"hidden_size": 4, "tied": true, "surface_maxlen": 2,
                             "predict_delay_us_per_row": 500})";

constexpr int kServing = 1;
constexpr int kNotServing = 2;

TEST(OperationsTest, HealthIsNotServingUntilModelsAreLoaded) {
  const std::string root = MakeTempDir("health");
  WriteTestModelVersion(root, "small", 1, kSmall);
  absl::Notification gate;
  LoopbackServer loopback(root, {}, &gate);
  EXPECT_EQ(HealthCheck(loopback.channel(), ""), kNotServing);
  EXPECT_EQ(HealthCheck(loopback.channel(), server::kServiceName), kNotServing);
  // While loading, the model is known but not usable.
  grpc::ClientContext context;
  const StreamedTransfer early =
      RunTransfer(loopback.stub(), TokenListRequest("small", 2), &context);
  EXPECT_EQ(early.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(early.status.error_message(), HasSubstr("still loading"));
  gate.Notify();
  loopback.server().WaitUntilLoaded();
  EXPECT_EQ(HealthCheck(loopback.channel(), ""), kServing);
  EXPECT_EQ(HealthCheck(loopback.channel(), server::kServiceName), kServing);
  EXPECT_EQ(HealthCheck(loopback.channel(), "no.such.Service"),
            -static_cast<int>(grpc::StatusCode::NOT_FOUND));
}

// One AVAILABLE version is enough: health is SERVING (the server, the service and that
// model's own name) while another model is still loading, whose name stays NOT_SERVING.
TEST(OperationsTest, HealthIsServingOnceOneVersionIsAvailable) {
  const std::string root = MakeTempDir("health_one");
  WriteTestModelVersion(root, "small", 1, kSmall);
  WriteTestModelVersion(root, "big", 1, R"({"hidden_size": 4, "load_delay_ms": 3000})");
  server::ServerOptions options;
  options.load_threads = 2;
  LoopbackServer loopback(root, options, nullptr, /*wait_until_loaded=*/false);
  int health = kNotServing;
  for (int i = 0; i < 200 && health != kServing; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    health = HealthCheck(loopback.channel(), "");
  }
  EXPECT_EQ(health, kServing);
  EXPECT_EQ(HealthCheck(loopback.channel(), server::kServiceName), kServing);
  EXPECT_EQ(HealthCheck(loopback.channel(), server::ModelHealthName("small")), kServing);
  EXPECT_EQ(loopback.server().repository().State("big", 1), v1::VERSION_STATE_LOADING);
  EXPECT_EQ(HealthCheck(loopback.channel(), server::ModelHealthName("big")), kNotServing);
  grpc::ClientContext context;
  EXPECT_TRUE(RunTransfer(loopback.stub(), TokenListRequest("small", 2), &context).status.ok());
  loopback.server().WaitUntilLoaded();
  EXPECT_EQ(HealthCheck(loopback.channel(), server::ModelHealthName("big")), kServing);
}

// SIGTERM while a version loads: the drain takes its grace, not the load's time, and the
// versions not yet started are not loaded.
TEST(OperationsTest, ShutdownWhileLoadingReturnsWithinTheGrace) {
  const std::string root = MakeTempDir("shutdown_loading");
  for (const char* name : {"a", "b", "c"}) {
    WriteTestModelVersion(root, name, 1, R"({"hidden_size": 4, "load_delay_ms": 2000})");
  }
  server::ServerOptions options;
  options.load_threads = 1;
  LoopbackServer loopback(root, options, nullptr, /*wait_until_loaded=*/false);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // "a" is loading
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(loopback.server().Shutdown(absl::Milliseconds(300)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500));
  loopback.server().WaitUntilLoaded();  // "a" finishes; "b" and "c" never start
  EXPECT_EQ(loopback.server().repository().CountVersions(v1::VERSION_STATE_LOADING), 2);
}

TEST(OperationsTest, HealthStaysNotServingWhenEveryVersionFailed) {
  const std::string root = MakeTempDir("health_failed");
  const std::string dir = WriteTestModelVersion(root, "small", 1, kSmall);
  std::remove((dir + "/manifest.json").c_str());
  LoopbackServer loopback(root);
  EXPECT_EQ(loopback.server().repository().CountVersions(v1::VERSION_STATE_FAILED), 1);
  EXPECT_EQ(HealthCheck(loopback.channel(), ""), kNotServing);
}

TEST(OperationsTest, ReflectionListsTheService) {
  const std::string root = MakeTempDir("reflection");
  WriteTestModelVersion(root, "small", 1, kSmall);
  LoopbackServer loopback(root);
  const std::vector<std::string> services = ReflectionServices(loopback.channel());
  EXPECT_NE(std::find(services.begin(), services.end(), "zett.v1.TokenizerTransfer"),
            services.end());
  EXPECT_NE(std::find(services.begin(), services.end(), "grpc.health.v1.Health"), services.end());
}

TEST(OperationsTest, MetricsCountRequestsByMethodAndCode) {
  const std::string root = MakeTempDir("metrics");
  WriteTestModelVersion(root, "small", 1, kSmall);
  server::ServerOptions options;
  options.metrics_listen = "127.0.0.1:0";
  LoopbackServer loopback(root, options);
  for (int i = 0; i < 2; ++i) {
    grpc::ClientContext context;
    ASSERT_TRUE(RunTransfer(loopback.stub(), TokenListRequest("small", 5), &context).status.ok());
  }
  grpc::ClientContext context;
  RunTransfer(loopback.stub(), TokenListRequest("missing", 5), &context);
  const std::string text = loopback.server().metrics().TextFormat();
  EXPECT_THAT(text, HasSubstr(R"(zett_requests_total{code="OK",method="Transfer"} 2)"));
  EXPECT_THAT(text, HasSubstr(R"(zett_requests_total{code="NOT_FOUND",method="Transfer"} 1)"));
  EXPECT_THAT(text, HasSubstr(R"(zett_cache_requests_total{result="hit"} 1)"));
  EXPECT_THAT(
      text,
      HasSubstr(R"(zett_request_duration_seconds_count{method="Transfer",phase="predict"} 1)"));
  EXPECT_THAT(text, HasSubstr("zett_build_info{version=\"dev\"} 1"));
  EXPECT_THAT(text, HasSubstr(R"(zett_model_versions{state="AVAILABLE"} 1)"));

  // The same text over HTTP.
  const int port = loopback.server().metrics().listening_port();
  ASSERT_GT(port, 0);
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  const std::string get = "GET /metrics HTTP/1.0\r\n\r\n";
  ASSERT_EQ(send(fd, get.data(), get.size(), 0), static_cast<ssize_t>(get.size()));
  std::string reply;
  char buffer[4096];
  for (ssize_t n; (n = recv(fd, buffer, sizeof(buffer), 0)) > 0;) reply.append(buffer, n);
  close(fd);
  EXPECT_THAT(reply, HasSubstr("200 OK"));
  EXPECT_THAT(reply, HasSubstr("zett_requests_total"));
}

TEST(OperationsTest, ServerKeepsServingWhenTheMetricsPortIsTaken) {
  // Occupy a port without SO_REUSEADDR so that neither civetweb nor the fallback can bind it.
  const int blocker = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  ASSERT_EQ(bind(blocker, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(blocker, 1), 0);
  socklen_t length = sizeof(addr);
  getsockname(blocker, reinterpret_cast<sockaddr*>(&addr), &length);

  const std::string root = MakeTempDir("metrics_taken");
  WriteTestModelVersion(root, "small", 1, kSmall);
  server::ServerOptions options;
  options.metrics_listen = absl::StrCat("127.0.0.1:", ntohs(addr.sin_port));
  LoopbackServer loopback(root, options);
  EXPECT_EQ(loopback.server().metrics().listening_port(), 0);
  grpc::ClientContext context;
  EXPECT_TRUE(RunTransfer(loopback.stub(), TokenListRequest("small", 3), &context).status.ok());
  EXPECT_EQ(HealthCheck(loopback.channel(), ""), kServing);
  close(blocker);
}

TEST(OperationsTest, ASecondServerOnATakenPortRefusesToStart) {
  const std::string root = MakeTempDir("port_taken");
  WriteTestModelVersion(root, "small", 1, kSmall);
  LoopbackServer first(root);
  server::ServerOptions options;
  options.model_repository = root;
  options.listen = absl::StrCat("127.0.0.1:", first.server().port());
  absl::StatusOr<std::unique_ptr<server::ZettServer>> second =
      server::ZettServer::Start(options, std::make_shared<DeterministicTestLoader>(nullptr));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("is the port in use?"));
  // The first one is unaffected.
  grpc::ClientContext context;
  EXPECT_TRUE(RunTransfer(first.stub(), TokenListRequest("small", 3), &context).status.ok());
}

TEST(OperationsTest, BearerTokenIsRequiredForTheServiceNotForHealth) {
  const std::string root = MakeTempDir("auth");
  WriteTestModelVersion(root, "small", 1, kSmall);
  server::ServerOptions options;
  options.service.bearer_token = "s3cret";
  LoopbackServer loopback(root, options);
  v1::ListModelsResponse list;
  grpc::ClientContext anonymous;
  EXPECT_EQ(loopback.stub().ListModels(&anonymous, {}, &list).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  grpc::ClientContext wrong;
  wrong.AddMetadata("authorization", "Bearer nope");
  EXPECT_EQ(RunTransfer(loopback.stub(), TokenListRequest("small", 2), &wrong).status.error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  grpc::ClientContext right;
  right.AddMetadata("authorization", "Bearer s3cret");
  EXPECT_TRUE(RunTransfer(loopback.stub(), TokenListRequest("small", 2), &right).status.ok());
  EXPECT_EQ(HealthCheck(loopback.channel(), ""), kServing);
}

TEST(OperationsTest, DrainLetsInFlightCallsFinishAndRefusesNewOnes) {
  const std::string root = MakeTempDir("drain");
  WriteTestModelVersion(root, "slow", 1, kSlow);
  LoopbackServer loopback(root);
  StreamedTransfer in_flight;
  grpc::ClientContext context;
  auto reader = loopback.stub().Transfer(&context, TokenListRequest("slow", 600));  // ~0.3 s
  v1::TransferResponse response;
  ASSERT_TRUE(reader->Read(&response));
  std::thread drain([&] { loopback.server().Shutdown(absl::Seconds(10)); });
  uint64_t rows = 0;
  bool trailer = false;
  while (reader->Read(&response)) {
    if (response.has_rows()) rows += response.rows().num_rows();
    trailer |= response.has_trailer();
  }
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(rows, 600u);
  EXPECT_TRUE(trailer);
  drain.join();
  grpc::ClientContext after;
  after.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  EXPECT_FALSE(RunTransfer(loopback.stub(), TokenListRequest("slow", 2), &after).status.ok());
}

}  // namespace
}  // namespace zett::testing
