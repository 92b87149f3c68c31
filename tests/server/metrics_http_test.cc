// The built-in /metrics responder under slow clients: a slowloris connection is cut at its
// deadline and never blocks a scrape; connections beyond the bound get 503 at once.
#include "server/metrics_http.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace zett::server {
namespace {

using Clock = std::chrono::steady_clock;

int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  timeval timeout{10, 0};  // the test fails instead of hanging
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  return fd;
}

// Everything the server sends until it closes.
std::string ReadAll(int fd) {
  std::string out;
  char buffer[4096];
  ssize_t n;
  while ((n = recv(fd, buffer, sizeof(buffer), 0)) > 0) out.append(buffer, n);
  return out;
}

std::string Get(int port, const std::string& request) {
  const int fd = Connect(port);
  send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string response = ReadAll(fd);
  close(fd);
  return response;
}

TEST(MetricsHttpTest, ServesMetricsAnd404) {
  MetricsHttpServer server([] { return std::string("zett_up 1\n"); });
  ASSERT_TRUE(server.Listen("127.0.0.1:0").ok());
  const std::string ok = Get(server.port(), "GET /metrics HTTP/1.0\r\n\r\n");
  EXPECT_EQ(ok.rfind("HTTP/1.0 200 OK", 0), 0u) << ok;
  EXPECT_NE(ok.find("\r\n\r\nzett_up 1\n"), std::string::npos) << ok;
  EXPECT_EQ(Get(server.port(), "GET /other HTTP/1.0\r\n\r\n").rfind("HTTP/1.0 404", 0), 0u);
}

TEST(MetricsHttpTest, ASlowlorisClientIsCutAndDoesNotBlockAScrape) {
  MetricsHttpServer server([] { return std::string("zett_up 1\n"); });
  ASSERT_TRUE(server.Listen("127.0.0.1:0").ok());
  const int slow = Connect(server.port());
  const auto opened = Clock::now();
  // Trickles one byte every 300 ms on its own thread, as long as the server keeps it.
  std::thread trickle([slow] {
    const std::string head = "GET /metrics HTTP/1.0\r\nX-Slow: ";
    for (size_t i = 0; i < 40; ++i) {
      if (send(slow, &head[i % head.size()], 1, MSG_NOSIGNAL) <= 0) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto scrape_start = Clock::now();
  const std::string scraped = Get(server.port(), "GET /metrics HTTP/1.0\r\n\r\n");
  EXPECT_EQ(scraped.rfind("HTTP/1.0 200 OK", 0), 0u);
  EXPECT_LT(Clock::now() - scrape_start, std::chrono::milliseconds(1000));
  // The slow one is answered with what it sent so far (no complete GET line: 404) and closed
  // at its 2 s deadline, long before its 12 s of trickling end.
  ReadAll(slow);
  const auto cut_after = Clock::now() - opened;
  EXPECT_GE(cut_after, std::chrono::milliseconds(MetricsHttpServer::kRequestDeadlineMs - 100));
  EXPECT_LT(cut_after, std::chrono::milliseconds(MetricsHttpServer::kRequestDeadlineMs + 1500));
  shutdown(slow, SHUT_RDWR);  // ends the trickle; the fd is closed once no thread uses it
  trickle.join();
  close(slow);
}

TEST(MetricsHttpTest, ConnectionsBeyondTheBoundGet503AtOnce) {
  MetricsHttpServer server([] { return std::string("zett_up 1\n"); });
  ASSERT_TRUE(server.Listen("127.0.0.1:0").ok());
  std::vector<int> idle;
  for (int i = 0; i < MetricsHttpServer::kMaxConnections; ++i)
    idle.push_back(Connect(server.port()));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // all accepted, all waiting
  const auto start = Clock::now();
  EXPECT_EQ(Get(server.port(), "GET /metrics HTTP/1.0\r\n\r\n").rfind("HTTP/1.0 503", 0), 0u);
  EXPECT_LT(Clock::now() - start, std::chrono::milliseconds(1000));
  for (int fd : idle) close(fd);
  // Once they are gone, scrapes work again.
  std::string ok;
  for (int i = 0; i < 50 && ok.rfind("HTTP/1.0 200", 0) != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ok = Get(server.port(), "GET /metrics HTTP/1.0\r\n\r\n");
  }
  EXPECT_EQ(ok.rfind("HTTP/1.0 200 OK", 0), 0u);
}

}  // namespace
}  // namespace zett::server
