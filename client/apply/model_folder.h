// What `zett apply` and `zett apply --finetuned` share about the folder they write: which out
// dirs may be written, and writing through "<out>.partial" so that a failed run never leaves a
// half-written model where a complete one is expected.
#ifndef ZETT_CLIENT_APPLY_MODEL_FOLDER_H_
#define ZETT_CLIENT_APPLY_MODEL_FOLDER_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace zett::apply {

// A folder the run reads, and what it is ("the base model folder"), for the refusal message.
struct InputFolder {
  std::string dir;
  std::string what;
};

// OK when `out_dir` is absent, an empty folder, or (with `force`) a non-empty one; refused when
// it is one of `inputs` (INVALID_ARGUMENT) or not a folder / not empty (FAILED_PRECONDITION).
absl::Status CheckOutDir(const std::string& out_dir, const std::vector<InputFolder>& inputs,
                         bool force);

// "<out_dir><suffix>", without a trailing slash in between.
std::string BesideOutDir(const std::string& out_dir, const std::string& suffix);

// Creates an empty "<out_dir>.partial", runs `write` on it, and on success replaces `out_dir`
// with it; on failure removes it and returns `write`'s status.
absl::Status WriteThroughStaging(const std::string& out_dir,
                                 const std::function<absl::Status(const std::string&)>& write);

}  // namespace zett::apply

#endif  // ZETT_CLIENT_APPLY_MODEL_FOLDER_H_
