// The ModelLoader that zett-server uses for <model>/<version>/ directories: the product engine
// (core/tokenizer + core/hypernet, server/hypernet_model.h).
#ifndef ZETT_SERVER_DEFAULT_LOADER_H_
#define ZETT_SERVER_DEFAULT_LOADER_H_

#include <memory>

#include "server/hypernet_model.h"
#include "server/transfer_engine.h"

namespace zett::server {

std::shared_ptr<const ModelLoader> MakeDefaultModelLoader(const HypernetLoaderOptions& options);

}  // namespace zett::server

#endif  // ZETT_SERVER_DEFAULT_LOADER_H_
