#include "server/model_repository.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/io/sha256.h"
#include "server/log.h"
#include "server/manifest.h"

namespace zett::server {
namespace {

namespace fs = std::filesystem;

bool ParseVersion(const std::string& name, int64_t* version) {
  if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) return false;
  return absl::SimpleAtoi(name, version) && *version > 0;
}

}  // namespace

ModelRepository::ModelRepository(std::string root, std::shared_ptr<const ModelLoader> loader)
    : root_(std::move(root)), loader_(std::move(loader)) {}

absl::Status ModelRepository::Scan() {
  std::error_code error;
  fs::directory_iterator models(root_, error);
  if (error) {
    return absl::NotFoundError(
        absl::StrCat("model repository ", root_, " cannot be listed: ", error.message()));
  }
  std::lock_guard<std::mutex> lock(mutex_);
  for (const fs::directory_entry& model_entry : models) {
    const std::string name = model_entry.path().filename().string();
    if (!model_entry.is_directory() || name.empty() || name[0] == '.') continue;
    Versions versions;
    for (const fs::directory_entry& version_entry : fs::directory_iterator(model_entry.path())) {
      const std::string version_name = version_entry.path().filename().string();
      int64_t version = 0;
      if (!version_entry.is_directory() || !ParseVersion(version_name, &version)) {
        LogWarning("repository_skip", {{"path", version_entry.path().string()},
                                       {"why", "not a positive numeric version directory"}});
        continue;
      }
      versions[version].dir = version_entry.path().string();
    }
    if (versions.empty()) {
      LogWarning("repository_skip", {{"model", name}, {"why", "no numeric version directory"}});
      continue;
    }
    models_[name] = std::move(versions);
  }
  LogInfo("repository_scanned", {{"root", root_}, {"models", std::to_string(models_.size())}});
  return absl::OkStatus();
}

absl::Status ModelRepository::AddUnverified(const std::string& name, int64_t version,
                                            std::string dir) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (models_.count(name) > 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("model '", name, "' is already in the repository ", root_));
  }
  Version& entry = models_[name][version];
  entry.dir = std::move(dir);
  entry.verify_manifest = false;
  return absl::OkStatus();
}

void ModelRepository::LoadOne(const std::string& name, int64_t version, const std::string& dir,
                              bool verify_manifest) {
  const absl::Time start = absl::Now();
  absl::Status status;
  std::shared_ptr<const LoadedModel> model;
  std::string manifest_sha256;
  if (verify_manifest) {
    absl::StatusOr<Manifest> manifest = ReadManifest(dir);
    status = manifest.ok() ? VerifyManifest(dir, *manifest) : manifest.status();
    if (status.ok()) {
      absl::StatusOr<io::FileDigest> digest = io::Sha256File(dir + "/manifest.json");
      if (digest.ok()) manifest_sha256 = digest->sha256_hex;
    }
  }
  if (status.ok()) {
    absl::StatusOr<std::shared_ptr<const LoadedModel>> loaded = loader_->Load(name, version, dir);
    if (loaded.ok()) {
      model = *std::move(loaded);
    } else {
      status = loaded.status();
    }
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Version& entry = models_[name][version];
    entry.model = model;
    entry.state = status.ok() ? v1::VERSION_STATE_AVAILABLE : v1::VERSION_STATE_FAILED;
    entry.reason = status.ok() ? "" : status.ToString();
    entry.manifest_sha256 = manifest_sha256;
  }
  const std::string seconds = absl::StrCat(absl::ToDoubleSeconds(absl::Now() - start));
  if (status.ok()) {
    LogInfo("model_available",
            {{"model", name}, {"version", std::to_string(version)}, {"load_seconds", seconds}});
  } else {
    LogError(
        "model_failed",
        {{"model", name}, {"version", std::to_string(version)}, {"reason", status.ToString()}});
  }
}

void ModelRepository::LoadAll(int threads, const VersionLoaded& on_loaded,
                              const std::function<bool()>& stop) {
  struct Job {
    std::string name;
    int64_t version;
    std::string dir;
    bool verify_manifest;
  };
  std::vector<Job> jobs;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [name, versions] : models_) {
      for (const auto& [version, entry] : versions) {
        if (entry.state == v1::VERSION_STATE_LOADING)
          jobs.push_back({name, version, entry.dir, entry.verify_manifest});
      }
    }
  }
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < jobs.size() && !(stop && stop()); i = next++) {
      LoadOne(jobs[i].name, jobs[i].version, jobs[i].dir, jobs[i].verify_manifest);
      if (on_loaded) on_loaded(jobs[i].name, jobs[i].version, State(jobs[i].name, jobs[i].version));
    }
  };
  std::vector<std::thread> pool;
  for (int i = 1; i < std::max(1, threads); ++i) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
}

absl::StatusOr<ResolvedModel> ModelRepository::Resolve(const std::string& model,
                                                       int64_t version) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = models_.find(model);
  if (it == models_.end()) {
    return absl::NotFoundError(absl::StrCat("model '", model, "' is not in the repository (",
                                            models_.size(), " models; see ListModels)"));
  }
  const Versions& versions = it->second;
  if (version == 0) {
    for (auto v = versions.rbegin(); v != versions.rend(); ++v) {
      if (v->second.state == v1::VERSION_STATE_AVAILABLE) {
        return ResolvedModel{model, v->first, v->second.model};
      }
    }
    const bool loading = std::any_of(versions.begin(), versions.end(), [](const auto& v) {
      return v.second.state == v1::VERSION_STATE_LOADING;
    });
    if (loading) {
      return absl::UnavailableError(absl::StrCat("model '", model, "' is still loading"));
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "model '", model,
        "' has no AVAILABLE version; newest failed: ", versions.rbegin()->second.reason));
  }
  auto v = versions.find(version);
  if (v == versions.end()) {
    return absl::NotFoundError(absl::StrCat("model '", model, "' has no version ", version));
  }
  switch (v->second.state) {
    case v1::VERSION_STATE_AVAILABLE:
      return ResolvedModel{model, version, v->second.model};
    case v1::VERSION_STATE_LOADING:
      return absl::UnavailableError(
          absl::StrCat("model '", model, "' version ", version, " is still loading"));
    default:
      return absl::FailedPreconditionError(absl::StrCat("model '", model, "' version ", version,
                                                        " FAILED to load: ", v->second.reason));
  }
}

v1::ModelInfo ModelRepository::InfoLocked(const std::string& name, const Versions& versions) const {
  v1::ModelInfo info;
  info.set_name(name);
  const LoadedModel* newest = nullptr;
  for (const auto& [version, entry] : versions) {
    v1::ModelVersion* out = info.add_versions();
    out->set_version(version);
    out->set_state(entry.state);
    out->set_reason(entry.reason);
    out->set_manifest_sha256(entry.manifest_sha256);
    if (entry.state == v1::VERSION_STATE_AVAILABLE) newest = entry.model.get();
  }
  if (newest != nullptr) {
    const ModelMetadata& m = newest->metadata();
    info.set_architecture(m.architecture);
    info.set_hidden_size(m.hidden_size);
    info.set_original_vocab_size(m.original_vocab_size);
    info.set_tied_embeddings(m.tied_embeddings);
    info.set_predicts_bias(m.predicts_bias);
    info.set_surface_maxlen(m.surface_maxlen);
    for (const std::string& language : m.languages) info.add_languages(language);
    info.set_compute_dtype(m.compute_dtype);
    info.set_hypernet_config_json(m.hypernet_config_json);
  }
  return info;
}

absl::StatusOr<v1::ModelInfo> ModelRepository::Info(const std::string& model) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = models_.find(model);
  if (it == models_.end()) {
    return absl::NotFoundError(absl::StrCat("model '", model, "' is not in the repository"));
  }
  return InfoLocked(it->first, it->second);
}

std::vector<v1::ModelInfo> ModelRepository::List() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<v1::ModelInfo> infos;
  for (const auto& [name, versions] : models_) infos.push_back(InfoLocked(name, versions));
  return infos;
}

int ModelRepository::CountVersions(v1::VersionState state) const {
  std::lock_guard<std::mutex> lock(mutex_);
  int count = 0;
  for (const auto& [name, versions] : models_) {
    for (const auto& [version, entry] : versions) count += entry.state == state;
  }
  return count;
}

v1::VersionState ModelRepository::State(const std::string& model, int64_t version) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto it = models_.find(model);
  if (it == models_.end()) return v1::VERSION_STATE_UNSPECIFIED;
  const auto v = it->second.find(version);
  return v == it->second.end() ? v1::VERSION_STATE_UNSPECIFIED : v->second.state;
}

std::vector<std::shared_ptr<const LoadedModel>> ModelRepository::LoadedModels() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::shared_ptr<const LoadedModel>> loaded;
  for (const auto& [name, versions] : models_) {
    for (const auto& [version, entry] : versions) {
      if (entry.model != nullptr) loaded.push_back(entry.model);
    }
  }
  return loaded;
}

}  // namespace zett::server
