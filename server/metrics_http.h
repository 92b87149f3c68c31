// A minimal HTTP/1.0 responder for GET /metrics on plain sockets, used when prometheus-cpp's
// civetweb-based Exposer cannot start (seen on the GPU host: "null context when constructing
// CivetServer" while plain sockets bound the same port). One thread, one connection at a time,
// which is what a Prometheus scraper needs.
#ifndef ZETT_SERVER_METRICS_HTTP_H_
#define ZETT_SERVER_METRICS_HTTP_H_

#include <atomic>
#include <functional>
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

 private:
  void Serve();

  std::function<std::string()> body_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace zett::server

#endif  // ZETT_SERVER_METRICS_HTTP_H_
