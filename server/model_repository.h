// What is on disk and in which state: <root>/<model>/<version>/ directories (numeric versions,
// Triton / TF Serving layout), each LOADING → AVAILABLE, or FAILED with the reason (manifest
// missing or not matching, loader error). A failed version never hides the others.
#ifndef ZETT_SERVER_MODEL_REPOSITORY_H_
#define ZETT_SERVER_MODEL_REPOSITORY_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/zett/v1/zett.pb.h"
#include "server/transfer_engine.h"

namespace zett::server {

struct ResolvedModel {
  std::string name;
  int64_t version = 0;
  std::shared_ptr<const LoadedModel> model;
};

class ModelRepository {
 public:
  ModelRepository(std::string root, std::shared_ptr<const ModelLoader> loader);

  // Registers every <model>/<numeric version>/ below the root as LOADING. Fails only when the
  // root cannot be listed; odd entries (files, non-numeric folders) are logged and skipped.
  absl::Status Scan();

  // Registers `dir` as `name` version `version`, LOADING, loaded without a manifest: its folders
  // were named on the command line (ModelSpec), not copied into the repository, so there is no
  // copy to verify. ALREADY_EXISTS when the repository has that model already.
  absl::Status AddUnverified(const std::string& name, int64_t version, std::string dir);

  // Called after each version has left LOADING (from a loading thread).
  using VersionLoaded =
      std::function<void(const std::string& name, int64_t version, v1::VersionState state)>;
  // Verifies and loads every LOADING version on `threads` threads; returns when all are done,
  // or, once `stop` returns true, when the loads under way are done (the rest stay LOADING).
  void LoadAll(int threads, const VersionLoaded& on_loaded = nullptr,
               const std::function<bool()>& stop = nullptr);

  // `version` 0 means the newest AVAILABLE one. NOT_FOUND: unknown model or version;
  // UNAVAILABLE: still loading; FAILED_PRECONDITION: that version failed (with its reason).
  absl::StatusOr<ResolvedModel> Resolve(const std::string& model, int64_t version) const;

  // Metadata of the newest AVAILABLE version (zero when none) and every version's state.
  absl::StatusOr<v1::ModelInfo> Info(const std::string& model) const;
  std::vector<v1::ModelInfo> List() const;

  // Counts by state, for metrics and health.
  int CountVersions(v1::VersionState state) const;
  // The state of one version (UNSPECIFIED when unknown).
  v1::VersionState State(const std::string& model, int64_t version) const;

  // Every loaded model (for device memory accounting).
  std::vector<std::shared_ptr<const LoadedModel>> LoadedModels() const;

  const std::string& root() const { return root_; }

 private:
  struct Version {
    v1::VersionState state = v1::VERSION_STATE_LOADING;
    std::string reason;
    std::string dir;
    bool verify_manifest = true;
    std::string manifest_sha256;  // hex, once verified
    std::shared_ptr<const LoadedModel> model;
  };
  using Versions = std::map<int64_t, Version>;  // ascending

  void LoadOne(const std::string& name, int64_t version, const std::string& dir,
               bool verify_manifest);
  v1::ModelInfo InfoLocked(const std::string& name, const Versions& versions) const;

  const std::string root_;
  const std::shared_ptr<const ModelLoader> loader_;
  mutable std::mutex mutex_;
  std::map<std::string, Versions> models_;
};

}  // namespace zett::server

#endif  // ZETT_SERVER_MODEL_REPOSITORY_H_
