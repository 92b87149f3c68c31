#include "server/default_loader.h"

#include "absl/strings/str_cat.h"

namespace zett::server {
namespace {

// Placeholder until core/hypernet's engine exists: see docs/server.md, "Plugging in the engine".
class UnavailableEngineLoader final : public ModelLoader {
 public:
  absl::StatusOr<std::shared_ptr<const LoadedModel>> Load(
      const std::string& model_name, int64_t version,
      const std::string& version_dir) const override {
    return absl::UnimplementedError(absl::StrCat(
        "model '", model_name, "' version ", version, " (", version_dir,
        "): no transfer engine is linked into this zett-server (core/hypernet pending)"));
  }
};

}  // namespace

std::shared_ptr<const ModelLoader> MakeDefaultModelLoader() {
  return std::make_shared<UnavailableEngineLoader>();
}

}  // namespace zett::server
