// The ModelLoader that zett-server uses for <model>/<version>/ directories: the product engine
// (core/tokenizer + core/hypernet). Until that engine is linked in, every version FAILS with a
// reason that says so, and the server reports it through GetModel and health.
#ifndef ZETT_SERVER_DEFAULT_LOADER_H_
#define ZETT_SERVER_DEFAULT_LOADER_H_

#include <memory>

#include "server/transfer_engine.h"

namespace zett::server {

std::shared_ptr<const ModelLoader> MakeDefaultModelLoader();

}  // namespace zett::server

#endif  // ZETT_SERVER_DEFAULT_LOADER_H_
