#include "server/metrics.h"

#include <prometheus/exposer.h>
#include <prometheus/text_serializer.h>

#include <exception>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "proto/wire/status_mapping.h"
#include "server/log.h"
#include "server/metrics_http.h"

namespace zett::server {
namespace {

// 1 ms … ~65 s, doubling: covers PredictTokens (ms) and 128k-token transfers (seconds).
prometheus::Histogram::BucketBoundaries DurationBuckets() {
  prometheus::Histogram::BucketBoundaries buckets;
  for (double b = 0.001; b < 70; b *= 2) buckets.push_back(b);
  return buckets;
}

}  // namespace

ServerMetrics::ServerMetrics(const std::string& build_version)
    : registry_(std::make_shared<prometheus::Registry>()) {
  requests_ = &prometheus::BuildCounter()
                   .Name("zett_requests_total")
                   .Help("RPCs served, by method and gRPC status code.")
                   .Register(*registry_);
  durations_ = &prometheus::BuildHistogram()
                    .Name("zett_request_duration_seconds")
                    .Help("Time spent per request phase.")
                    .Register(*registry_);
  rows_streamed_ = &prometheus::BuildCounter()
                        .Name("zett_rows_streamed_total")
                        .Help("Matrix rows sent to clients, over all matrices.")
                        .Register(*registry_)
                        .Add({});
  bytes_streamed_ = &prometheus::BuildCounter()
                         .Name("zett_response_bytes_total")
                         .Help("Raw row bytes sent to clients.")
                         .Register(*registry_)
                         .Add({});
  auto& cache = prometheus::BuildCounter()
                    .Name("zett_cache_requests_total")
                    .Help("Transfer result cache lookups.")
                    .Register(*registry_);
  cache_hits_ = &cache.Add({{"result", "hit"}});
  cache_misses_ = &cache.Add({{"result", "miss"}});
  cache_bytes_ = &prometheus::BuildGauge()
                      .Name("zett_cache_bytes")
                      .Help("Bytes held by the transfer result cache.")
                      .Register(*registry_)
                      .Add({});
  inflight_ = &prometheus::BuildGauge()
                   .Name("zett_inflight_requests")
                   .Help("Transfer and PredictTokens calls in progress.")
                   .Register(*registry_)
                   .Add({});
  versions_ = &prometheus::BuildGauge()
                   .Name("zett_model_versions")
                   .Help("Model versions in the repository, by state.")
                   .Register(*registry_);
  device_memory_ = &prometheus::BuildGauge()
                        .Name("zett_device_memory_bytes")
                        .Help("Device memory held by loaded models.")
                        .Register(*registry_)
                        .Add({});
  prometheus::BuildGauge()
      .Name("zett_build_info")
      .Help("Always 1; the labels describe the build.")
      .Register(*registry_)
      .Add({{"version", build_version}})
      .Set(1);
}

ServerMetrics::~ServerMetrics() = default;

void ServerMetrics::CountRequest(const std::string& method, grpc::StatusCode code) {
  requests_->Add({{"method", method}, {"code", wire::GrpcCodeName(code)}}).Increment();
}

void ServerMetrics::ObservePhase(const std::string& method, const std::string& phase,
                                 double seconds) {
  durations_->Add({{"method", method}, {"phase", phase}}, DurationBuckets()).Observe(seconds);
}

void ServerMetrics::AddStreamed(uint64_t rows, uint64_t bytes) {
  rows_streamed_->Increment(static_cast<double>(rows));
  bytes_streamed_->Increment(static_cast<double>(bytes));
}

void ServerMetrics::CountCache(bool hit) { (hit ? cache_hits_ : cache_misses_)->Increment(); }

void ServerMetrics::SetCacheBytes(uint64_t bytes) { cache_bytes_->Set(static_cast<double>(bytes)); }

void ServerMetrics::AddInflight(int delta) { inflight_->Increment(delta); }

void ServerMetrics::SetModelVersions(int loading, int available, int failed) {
  versions_->Add({{"state", "LOADING"}}).Set(loading);
  versions_->Add({{"state", "AVAILABLE"}}).Set(available);
  versions_->Add({{"state", "FAILED"}}).Set(failed);
}

void ServerMetrics::SetDeviceMemoryBytes(uint64_t bytes) {
  device_memory_->Set(static_cast<double>(bytes));
}

std::string ServerMetrics::TextFormat() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  return out.str();
}

// The built-in plain-socket endpoint serves first: prometheus-cpp's civetweb Exposer was seen to
// fail after binding ("null context when constructing CivetServer") once LibTorch shares the
// process, on the GPU host and on Debian, keeping the port so that nothing else could bind it.
// prometheus-cpp still owns the registry and the text format; its Exposer is the fallback.
absl::Status ServerMetrics::Listen(const std::string& address) {
  auto built_in = std::make_unique<MetricsHttpServer>([this] { return TextFormat(); });
  const absl::Status status = built_in->Listen(address);
  if (status.ok()) {
    fallback_ = std::move(built_in);
    LogInfo("metrics_listening", {{"address", address}, {"via", "built-in"}});
    return absl::OkStatus();
  }
  LogWarning("metrics_built_in_failed", {{"address", address}, {"error", status.ToString()}});
  try {
    auto exposer = std::make_unique<prometheus::Exposer>(address, 1);
    exposer->RegisterCollectable(registry_);
    exposer_ = std::move(exposer);
    LogInfo("metrics_listening", {{"address", address}, {"via", "prometheus-cpp"}});
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("metrics cannot listen on ", address, ": built-in: ",
                                               status.message(), "; prometheus-cpp: ", e.what()));
  }
}

int ServerMetrics::listening_port() const {
  if (exposer_ != nullptr) {
    const std::vector<int> ports = exposer_->GetListeningPorts();
    return ports.empty() ? 0 : ports.front();
  }
  return fallback_ != nullptr ? fallback_->port() : 0;
}

}  // namespace zett::server
