// Prometheus metrics (prometheus-cpp registry), named after the Prometheus naming guide:
//   zett_requests_total{method,code}                  counter
//   zett_request_duration_seconds{method,phase}       histogram; phase ∈ prepare, queue, predict,
//                                                     stream, total
//   zett_rows_streamed_total, zett_response_bytes_total   counters (raw row bytes)
//   zett_cache_requests_total{result="hit"|"miss"}, zett_cache_bytes
//   zett_inflight_requests, zett_model_versions{state}, zett_device_memory_bytes   gauges
//   zett_build_info{version}                          always 1
#ifndef ZETT_SERVER_METRICS_H_
#define ZETT_SERVER_METRICS_H_

#include <grpcpp/support/status.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

#include "absl/status/status.h"

namespace prometheus {
class Exposer;
}

namespace zett::server {

class MetricsHttpServer;

class ServerMetrics {
 public:
  explicit ServerMetrics(const std::string& build_version);
  ~ServerMetrics();

  void CountRequest(const std::string& method, grpc::StatusCode code);
  void ObservePhase(const std::string& method, const std::string& phase, double seconds);
  void AddStreamed(uint64_t rows, uint64_t bytes);
  void CountCache(bool hit);
  void SetCacheBytes(uint64_t bytes);
  void AddInflight(int delta);
  void SetModelVersions(int loading, int available, int failed);
  void SetDeviceMemoryBytes(uint64_t bytes);

  // The text exposition format, as a scrape would see it.
  std::string TextFormat() const;

  // Serves /metrics on `address` ("host:port"): prometheus-cpp's Exposer first, a minimal
  // built-in HTTP responder when civetweb cannot start. Never throws; the error says why
  // neither could listen. The server keeps serving gRPC either way.
  absl::Status Listen(const std::string& address);
  // The port actually bound by Listen() (useful with port 0); 0 when not listening.
  int listening_port() const;

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* requests_;
  prometheus::Family<prometheus::Histogram>* durations_;
  prometheus::Counter* rows_streamed_;
  prometheus::Counter* bytes_streamed_;
  prometheus::Counter* cache_hits_;
  prometheus::Counter* cache_misses_;
  prometheus::Gauge* cache_bytes_;
  prometheus::Gauge* inflight_;
  prometheus::Family<prometheus::Gauge>* versions_;
  prometheus::Gauge* device_memory_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::unique_ptr<MetricsHttpServer> fallback_;
};

}  // namespace zett::server

#endif  // ZETT_SERVER_METRICS_H_
