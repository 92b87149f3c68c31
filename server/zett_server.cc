#include "server/zett_server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "server/log.h"

namespace zett::server {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(what, ": cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(const ServerOptions& options) {
  if (options.tls_cert.empty() && options.tls_key.empty()) {
    if (!options.tls_client_ca.empty()) {
      return absl::InvalidArgumentError("--tls_client_ca needs --tls_cert and --tls_key");
    }
    return grpc::InsecureServerCredentials();
  }
  if (options.tls_cert.empty() || options.tls_key.empty()) {
    return absl::InvalidArgumentError("TLS needs both --tls_cert and --tls_key");
  }
  grpc::SslServerCredentialsOptions ssl;
  absl::StatusOr<std::string> cert = ReadPem(options.tls_cert, "--tls_cert");
  absl::StatusOr<std::string> key = ReadPem(options.tls_key, "--tls_key");
  if (!cert.ok()) return cert.status();
  if (!key.ok()) return key.status();
  ssl.pem_key_cert_pairs.push_back({*key, *cert});
  if (!options.tls_client_ca.empty()) {
    absl::StatusOr<std::string> ca = ReadPem(options.tls_client_ca, "--tls_client_ca");
    if (!ca.ok()) return ca.status();
    ssl.pem_root_certs = *ca;
    ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(ssl);
}

std::string StagingRoot(const ServerOptions& options) {
  if (!options.model_staging_dir.empty()) return options.model_staging_dir;
  return (std::filesystem::temp_directory_path() / absl::StrCat("zett-server-models-", getpid()))
      .string();
}

// The repository's versions, then each --model as version 1 of its own name.
absl::Status AddModels(const ServerOptions& options, ModelRepository* repository) {
  if (options.model_repository.empty() && options.models.empty()) {
    return absl::InvalidArgumentError(
        "no models: give --model-repository DIR or --model NAME=BASE_DIR,HYPERNET_DIR");
  }
  if (!options.model_repository.empty()) {
    if (absl::Status status = repository->Scan(); !status.ok()) return status;
  }
  for (const ModelSpec& spec : options.models) {
    absl::StatusOr<std::string> dir = StageModelVersion(spec, StagingRoot(options));
    if (!dir.ok()) return dir.status();
    if (absl::Status status = repository->AddUnverified(spec.name, 1, *dir); !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ZettServer>> ZettServer::Start(
    const ServerOptions& options, std::shared_ptr<const ModelLoader> loader) {
  std::unique_ptr<ZettServer> server(new ZettServer());
  server->metrics_ = std::make_unique<ServerMetrics>(options.build_version);
  server->repository_ = std::make_unique<ModelRepository>(options.model_repository, loader);
  if (absl::Status status = AddModels(options, server->repository_.get()); !status.ok()) {
    return status;
  }
  server->queue_ = std::make_unique<PredictQueue>(PredictQueueOptions{options.max_batch_rows});
  server->cache_ = std::make_unique<ResultCache>(options.cache_bytes);
  server->service_ = std::make_unique<TransferService>(options.service, server->repository_.get(),
                                                       server->queue_.get(), server->cache_.get(),
                                                       server->metrics_.get());
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials = Credentials(options);
  if (!credentials.ok()) return credentials.status();

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // No SO_REUSEPORT: a second server on a taken port must fail, not take half its connections.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(options.listen, *credentials, &server->port_);
  builder.RegisterService(server->service_.get());
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(std::min<uint64_t>(options.service.limits.max_request_bytes, INT32_MAX)));
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen, " (is the port in use?)"));
  }
  // The default health service starts SERVING; nothing is loaded yet.
  grpc::HealthCheckServiceInterface* health = server->server_->GetHealthCheckService();
  health->SetServingStatus("", false);
  health->SetServingStatus(kServiceName, false);
  for (const v1::ModelInfo& model : server->repository_->List()) {
    health->SetServingStatus(ModelHealthName(model.name()), false);
  }

  if (!options.metrics_listen.empty()) {
    if (absl::Status status = server->metrics_->Listen(options.metrics_listen); !status.ok()) {
      LogError("metrics_unavailable", {{"error", status.ToString()},
                                       {"effect", "gRPC keeps serving; no metrics endpoint"}});
    }
  }
  LogInfo("server_listening", {{"address", options.listen},
                               {"port", absl::StrCat(server->port_)},
                               {"tls", options.tls_cert.empty() ? "off" : "on"},
                               {"repository", options.model_repository}});
  ZettServer* raw = server.get();
  const int threads = options.load_threads;
  server->loader_thread_ = std::thread([raw, threads] { raw->LoadModels(threads); });
  return server;
}

void ZettServer::LoadModels(int threads) {
  metrics_->SetModelVersions(repository_->CountVersions(v1::VERSION_STATE_LOADING), 0, 0);
  repository_->LoadAll(
      threads,
      [this](const std::string& name, int64_t, v1::VersionState state) {
        if (state == v1::VERSION_STATE_AVAILABLE) MarkServing(name);
        UpdateVersionMetrics();
      },
      [this] { return shut_down_.load(); });
  const int available = repository_->CountVersions(v1::VERSION_STATE_AVAILABLE);
  LogInfo("models_loaded",
          {{"available", absl::StrCat(available)},
           {"failed", absl::StrCat(repository_->CountVersions(v1::VERSION_STATE_FAILED))},
           {"not_loaded", absl::StrCat(repository_->CountVersions(v1::VERSION_STATE_LOADING))},
           {"health", available > 0 && !shut_down_ ? "SERVING" : "NOT_SERVING"}});
  loaded_ = true;
}

void ZettServer::MarkServing(const std::string& model) {
  // SERVING as soon as one version is AVAILABLE: the whole server, the service, and the model
  // under its own health name; never after the drain began.
  std::lock_guard<std::mutex> lock(health_mutex_);
  if (shut_down_) return;
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  health->SetServingStatus("", true);
  health->SetServingStatus(kServiceName, true);
  health->SetServingStatus(ModelHealthName(model), true);
}

void ZettServer::UpdateVersionMetrics() {
  metrics_->SetModelVersions(repository_->CountVersions(v1::VERSION_STATE_LOADING),
                             repository_->CountVersions(v1::VERSION_STATE_AVAILABLE),
                             repository_->CountVersions(v1::VERSION_STATE_FAILED));
  uint64_t device_bytes = 0;
  for (const auto& model : repository_->LoadedModels())
    device_bytes += model->device_memory_bytes();
  metrics_->SetDeviceMemoryBytes(device_bytes);
}

void ZettServer::WaitUntilLoaded() {
  if (loader_thread_.joinable()) loader_thread_.join();
}

bool ZettServer::Shutdown(absl::Duration grace) {
  if (shut_down_.exchange(true) || server_ == nullptr) return loaded_;
  const absl::Time deadline = absl::Now() + grace;
  LogInfo("server_draining", {{"grace_seconds", absl::StrCat(absl::ToDoubleSeconds(grace))}});
  {
    std::lock_guard<std::mutex> lock(health_mutex_);
    server_->GetHealthCheckService()->SetServingStatus(false);
  }
  server_->Shutdown(absl::ToChronoTime(deadline));
  server_->Wait();
  queue_->Shutdown();
  // No new loads start once shut_down_ is set; one under way gets what is left of the grace.
  while (!loaded_ && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(10));
  if (!loaded_) {
    LogWarning("server_stopped_while_loading",
               {{"effect", "a version load under way was abandoned; the process may exit"}});
    return false;
  }
  WaitUntilLoaded();
  LogInfo("server_stopped");
  return true;
}

ZettServer::~ZettServer() {
  Shutdown(absl::ZeroDuration());
  WaitUntilLoaded();  // the loader uses the repository and metrics this object owns
}

}  // namespace zett::server
