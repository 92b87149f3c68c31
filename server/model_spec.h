// `zett-server --model NAME=BASE_DIR,HYPERNET_DIR`: serves a base model folder and a hypernetwork
// folder as model NAME, version 1, with no repository or manifest step (e.g. the bundled
// models/base-lm and models/hypernet).
#ifndef ZETT_SERVER_MODEL_SPEC_H_
#define ZETT_SERVER_MODEL_SPEC_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace zett::server {

struct ModelSpec {
  std::string name;
  std::string base_dir;
  std::string hypernet_dir;
};

// Parses "NAME=BASE_DIR,HYPERNET_DIR" (INVALID_ARGUMENT saying which part is missing). The name
// follows the repository's folder rule: non-empty, no '/', not starting with '.'.
absl::StatusOr<ModelSpec> ParseModelSpec(absl::string_view flag);

// Makes <staging_root>/<name>/1/ with `base` and `hypernet` linked to the spec's folders (absolute
// paths), the version layout the loader reads, and returns that version folder. NOT_FOUND when a
// folder of the spec does not exist.
absl::StatusOr<std::string> StageModelVersion(const ModelSpec& spec,
                                              const std::string& staging_root);

}  // namespace zett::server

#endif  // ZETT_SERVER_MODEL_SPEC_H_
