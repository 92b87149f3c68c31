// The assembled server: model repository (loaded in the background), predict queue, result
// cache, metrics, zett.v1 service, grpc.health.v1 (NOT_SERVING until a version is AVAILABLE)
// and server reflection, on one gRPC port; metrics on their own HTTP port.
#ifndef ZETT_SERVER_ZETT_SERVER_H_
#define ZETT_SERVER_ZETT_SERVER_H_

#include <grpcpp/server.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/metrics.h"
#include "server/model_repository.h"
#include "server/model_spec.h"
#include "server/predict_queue.h"
#include "server/result_cache.h"
#include "server/service_options.h"
#include "server/transfer_service.h"

namespace zett::server {

// The service names reported by grpc.health.v1 ("" is the whole server).
inline constexpr char kServiceName[] = "zett.v1.TokenizerTransfer";
// A model's own health name: SERVING once one of its versions is AVAILABLE.
inline std::string ModelHealthName(const std::string& model) {
  return std::string(kServiceName) + "/" + model;
}

struct ServerOptions {
  std::string model_repository;  // may be empty when `models` names every model
  // Models served from their folders as version 1, with no manifest (zett-server --model). Their
  // version folders of links are made under model_staging_dir (empty: a folder under $TMPDIR).
  std::vector<ModelSpec> models;
  std::string model_staging_dir;
  std::string listen = "0.0.0.0:50051";  // port 0 picks a free port (see ZettServer::port)
  std::string metrics_listen;            // empty: no metrics port
  ServiceOptions service;
  uint64_t cache_bytes = 1ull << 30;
  uint64_t max_batch_rows = 4096;
  int load_threads = 2;
  // TLS: PEM files. With tls_client_ca, clients must present a certificate signed by it.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  std::string build_version = "dev";
};

class ZettServer {
 public:
  // Scans the repository (NOT_FOUND if the root cannot be listed) and adds `models` (NOT_FOUND for
  // a missing folder, ALREADY_EXISTS for a name the repository has; INVALID_ARGUMENT when there is
  // neither a repository nor a model), starts serving at once and
  // loads the versions in the background. A metrics port that cannot be opened is logged.
  static absl::StatusOr<std::unique_ptr<ZettServer>> Start(
      const ServerOptions& options, std::shared_ptr<const ModelLoader> loader);
  ~ZettServer();  // Shutdown(absl::ZeroDuration()), then waits for a load under way

  int port() const { return port_; }
  // Blocks until every version has left LOADING.
  void WaitUntilLoaded();
  bool loaded() const { return loaded_; }

  // Graceful drain: health NOT_SERVING, no new calls, in-flight calls get `grace` to finish and
  // are cancelled after it; then the predict queue stops. Versions not yet loading are not
  // loaded. Returns false when a version load was still under way at the end of the grace (the
  // destructor would wait for it; a process may exit instead). Idempotent.
  bool Shutdown(absl::Duration grace);

  ServerMetrics& metrics() { return *metrics_; }
  const ModelRepository& repository() const { return *repository_; }
  PredictQueue& queue() { return *queue_; }
  ResultCache& cache() { return *cache_; }

 private:
  ZettServer() = default;
  void LoadModels(int threads);
  void MarkServing(const std::string& model);
  void UpdateVersionMetrics();

  std::unique_ptr<ServerMetrics> metrics_;
  std::unique_ptr<ModelRepository> repository_;
  std::unique_ptr<PredictQueue> queue_;
  std::unique_ptr<ResultCache> cache_;
  std::unique_ptr<TransferService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::thread loader_thread_;
  std::atomic<bool> loaded_{false};
  std::atomic<bool> shut_down_{false};
  std::mutex health_mutex_;  // health status changes vs the drain
  int port_ = 0;
};

}  // namespace zett::server

#endif  // ZETT_SERVER_ZETT_SERVER_H_
