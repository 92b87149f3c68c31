// A minimal HTTP/1.0 responder for GET /metrics on plain sockets, used when prometheus-cpp's
// civetweb-based Exposer cannot start (seen on the GPU host: "null context when constructing
// CivetServer" while plain sockets bound the same port). Each connection has a whole-request
// deadline (a slowloris client that trickles bytes is cut, not waited for) and its own thread,
// up to kMaxConnections at once; beyond that a connection gets 503 at once. A slow client
// therefore never blocks the scraper.
#ifndef ZETT_SERVER_METRICS_HTTP_H_
#define ZETT_SERVER_METRICS_HTTP_H_

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"

namespace zett::server {

class MetricsHttpServer {
 public:
  explicit MetricsHttpServer(std::function<std::string()> body);
  ~MetricsHttpServer();  // stops the thread and closes the socket

  // "host:port" (port 0 picks a free one); IPv4 host or "0.0.0.0"/"localhost".
  absl::Status Listen(const std::string& address);
  int port() const { return port_; }

  static constexpr int kMaxConnections = 8;
  // Time one connection has to send its request, and then to take the response.
  static constexpr int kRequestDeadlineMs = 2000;

 private:
  void Serve();
  void Handle(int fd);

  std::function<std::string()> body_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable idle_;
  int connections_ = 0;  // handler threads running
};

}  // namespace zett::server

#endif  // ZETT_SERVER_METRICS_HTTP_H_
