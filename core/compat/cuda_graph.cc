#include "core/compat/cuda_graph.h"

#include <utility>
#include <vector>

#ifdef ZETT_WITH_CUDA
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include <optional>
#endif

namespace zett {

#ifdef ZETT_WITH_CUDA
struct ScopedSideStream::Impl {
  std::optional<c10::cuda::CUDAStreamGuard> guard;
};
struct CapturedWork::Graph {
  at::cuda::CUDAGraph graph;
};
struct HostStaging::Impl {
  at::cuda::CUDAEvent copied;
  bool recorded = false;
};
#else
struct ScopedSideStream::Impl {};
struct CapturedWork::Graph {};
struct HostStaging::Impl {};
#endif

ScopedSideStream::ScopedSideStream(at::Device device) : impl_(std::make_unique<Impl>()) {
#ifdef ZETT_WITH_CUDA
  if (device.is_cuda()) impl_->guard.emplace(c10::cuda::getStreamFromPool(false, device.index()));
#else
  (void)device;
#endif
}

ScopedSideStream::~ScopedSideStream() = default;

CapturedWork::CapturedWork(std::function<void()> work, at::Device device, int warmup_runs,
                           bool enabled)
    : work_(std::move(work)),
      device_(device),
      warmup_left_(warmup_runs),
      enabled_(enabled && device.is_cuda()) {}

CapturedWork::~CapturedWork() = default;

bool CapturedWork::captured() const { return graph_ != nullptr; }

void CapturedWork::Run() {
  if (graph_) {
#ifdef ZETT_WITH_CUDA
    graph_->graph.replay();
#endif
    return;
  }
  if (!enabled_ || warmup_left_ > 0) {
    if (warmup_left_ > 0) --warmup_left_;
    work_();
    return;
  }
#ifdef ZETT_WITH_CUDA
  auto graph = std::make_unique<Graph>();
  try {
    graph->graph.capture_begin();
    try {
      work_();
    } catch (...) {
      // End the capture so the stream is usable again, then report the first error.
      try {
        graph->graph.capture_end();
      } catch (...) {
      }
      throw;
    }
    graph->graph.capture_end();
    graph_ = std::move(graph);
    graph_->graph.replay();  // capturing ran nothing: this call's work happens now
    return;
  } catch (const std::exception& e) {
    error_ = e.what();
  }
  enabled_ = false;
  work_();
#endif
}

HostStaging::HostStaging(at::Device device) : device_(device), impl_(std::make_unique<Impl>()) {}
HostStaging::~HostStaging() = default;

at::Tensor HostStaging::Like(const at::Tensor& device_tensor) const {
  at::TensorOptions options = device_tensor.options().device(at::kCPU);
  if (device_.is_cuda()) options = options.pinned_memory(true);
  return at::empty(device_tensor.sizes(), options);
}

void HostStaging::WaitForPreviousCopies() {
#ifdef ZETT_WITH_CUDA
  if (impl_->recorded) impl_->copied.synchronize();
#endif
}

void HostStaging::CopyToDevice(const std::vector<std::pair<at::Tensor, at::Tensor>>& pairs) {
  for (const auto& [host, device] : pairs) {
    const_cast<at::Tensor&>(device).copy_(host, /*non_blocking=*/device_.is_cuda());
  }
#ifdef ZETT_WITH_CUDA
  if (device_.is_cuda()) {
    impl_->copied.record(c10::cuda::getCurrentCUDAStream(device_.index()));
    impl_->recorded = true;
  }
#endif
}

}  // namespace zett
