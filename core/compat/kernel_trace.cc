#include "core/compat/kernel_trace.h"

#include <torch/csrc/autograd/profiler_kineto.h>

#include <exception>
#include <set>

#include "absl/strings/str_cat.h"

namespace zett {
namespace {

namespace impl = torch::profiler::impl;

impl::ProfilerConfig TraceConfig() { return impl::ProfilerConfig(impl::ProfilerState::KINETO); }

const std::set<impl::ActivityType>& TraceActivities() {
  static const std::set<impl::ActivityType> activities = {impl::ActivityType::CPU,
                                                          impl::ActivityType::CUDA};
  return activities;
}

}  // namespace

absl::Status StartKernelTrace() {
  try {
    torch::autograd::profiler::prepareProfiler(TraceConfig(), TraceActivities());
    torch::autograd::profiler::enableProfiler(TraceConfig(), TraceActivities());
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("kernel trace: cannot start the profiler: ", e.what()));
  }
  return absl::OkStatus();
}

absl::Status StopKernelTrace(const std::string& path) {
  try {
    std::unique_ptr<torch::autograd::profiler::ProfilerResult> result =
        torch::autograd::profiler::disableProfiler();
    result->save(path);
  } catch (const std::exception& e) {
    // c10::Error's what() carries a stack trace; its first line says why.
    std::string why = e.what();
    why = why.substr(0, why.find('\n'));
    return absl::FailedPreconditionError(
        absl::StrCat("kernel trace: cannot write ", path, ": ", why));
  }
  return absl::OkStatus();
}

}  // namespace zett
