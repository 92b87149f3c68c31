// The --device convention of every zett binary: "auto" (CUDA when the host has it), "cpu" or
// "cuda". One resolver, so the trainers, evaluation and the server accept and refuse the same
// names with the same messages.
#ifndef ZETT_CORE_COMPAT_DEVICE_CHOICE_H_
#define ZETT_CORE_COMPAT_DEVICE_CHOICE_H_

#include <string>

#include "absl/status/statusor.h"

namespace zett {

// Whether `device` means CUDA. InvalidArgument for any other name; FailedPrecondition for
// "cuda" on a host without a CUDA device. `flag` names the option in the messages.
absl::StatusOr<bool> UseCuda(const std::string& device, const std::string& flag = "--device");

}  // namespace zett

#endif  // ZETT_CORE_COMPAT_DEVICE_CHOICE_H_
