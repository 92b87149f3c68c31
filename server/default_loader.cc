#include "server/default_loader.h"

#include "server/hypernet_model.h"

namespace zett::server {

std::shared_ptr<const ModelLoader> MakeDefaultModelLoader(const HypernetLoaderOptions& options) {
  return MakeHypernetModelLoader(options);
}

}  // namespace zett::server
