// Records the device kernels of a region with LibTorch's Kineto profiler (what torch.profiler
// uses) and writes a Chrome trace, so that a C++ binary and a PyTorch script are profiled the
// same way and compared by one summariser (scripts/bench/kernel_summary.py). A LibTorch built
// without Kineto (Debian's) makes StopKernelTrace return an error; nothing else changes.
#ifndef ZETT_CORE_COMPAT_KERNEL_TRACE_H_
#define ZETT_CORE_COMPAT_KERNEL_TRACE_H_

#include <string>

#include "absl/status/status.h"

namespace zett {

// Starts recording CPU ops and CUDA kernels in this process.
absl::Status StartKernelTrace();

// Stops recording and writes the Chrome trace JSON to `path`.
absl::Status StopKernelTrace(const std::string& path);

}  // namespace zett

#endif  // ZETT_CORE_COMPAT_KERNEL_TRACE_H_
