#include "core/compat/device_choice.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/compat/torch_compat.h"

namespace zett {

absl::StatusOr<bool> UseCuda(const std::string& device, const std::string& flag) {
  if (device != "auto" && device != "cpu" && device != "cuda") {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, "=", device, ": expected auto, cpu or cuda"));
  }
  const bool available = CudaAvailable();
  if (device == "cuda" && !available) {
    return absl::FailedPreconditionError(absl::StrCat(flag, "=cuda: no CUDA device"));
  }
  return device == "cuda" || (device == "auto" && available);
}

}  // namespace zett
