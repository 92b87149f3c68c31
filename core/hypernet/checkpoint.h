// A hypernetwork checkpoint folder, as zett publishes them (benjamin/zett-hypernetwork-*):
//   config.json        ZettHypernetConfig (core/hypernet/config.h)
//   model.safetensors  parameters in the PyTorch port's names (or sharded, with an index)
//   tokenizer.json     the ORIGINAL model's tokenizer, used to decompose target tokens; copied
//                      through unchanged, never parsed here
#ifndef ZETT_CORE_HYPERNET_CHECKPOINT_H_
#define ZETT_CORE_HYPERNET_CHECKPOINT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/hypernet/hypernet.h"

namespace zett {

// Reads config.json and the safetensors weights of `dir` into an fp32 CPU hypernetwork (call
// To() for another device or dtype). Errors name the folder and what is missing or wrong.
absl::StatusOr<Hypernet> LoadHypernet(const std::string& dir);

// Writes config.json and model.safetensors (in the hypernet's dtype) into `dir`, creating it,
// and copies `tokenizer_json` to dir/tokenizer.json when it is not empty.
absl::Status SaveHypernet(const std::string& dir, const Hypernet& hypernet,
                          const std::string& tokenizer_json = "");

// dir/tokenizer.json (whether or not it exists).
std::string HypernetTokenizerPath(const std::string& dir);

}  // namespace zett

#endif  // ZETT_CORE_HYPERNET_CHECKPOINT_H_
