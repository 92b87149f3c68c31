// Device work replayed as one CUDA graph (LibTorch's at::cuda::CUDAGraph): a training step of
// hundreds of small kernels then costs one launch. Hidden here because the CUDA headers exist
// only in CUDA builds; elsewhere, and on the CPU, the work simply runs each time.
#ifndef ZETT_CORE_COMPAT_CUDA_GRAPH_H_
#define ZETT_CORE_COMPAT_CUDA_GRAPH_H_

#include <ATen/ATen.h>

#include <functional>
#include <memory>
#include <string>

namespace zett {

// Makes a CUDA stream other than the default one current for its lifetime (capture needs one;
// the copies into a captured step's inputs must run on the same stream). No-op on the CPU.
class ScopedSideStream {
 public:
  explicit ScopedSideStream(at::Device device);
  ~ScopedSideStream();
  ScopedSideStream(const ScopedSideStream&) = delete;
  ScopedSideStream& operator=(const ScopedSideStream&) = delete;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Runs `work` eagerly for the first `warmup_runs` calls of Run() (capture needs the allocator,
// cuBLAS and autograd warm), then captures it once and replays the graph on every later call.
// `work` must read and write only tensors that outlive this object and keep their storage
// (static inputs copied into, parameters, accumulators), launch no host synchronisation and
// have no data-dependent shapes. If capture fails, the reason is kept and `work` runs eagerly
// from then on. Call from the thread and under the stream (ScopedSideStream) it was made for.
class CapturedWork {
 public:
  CapturedWork(std::function<void()> work, at::Device device, int warmup_runs = 3,
               bool enabled = true);
  ~CapturedWork();
  CapturedWork(const CapturedWork&) = delete;
  CapturedWork& operator=(const CapturedWork&) = delete;

  void Run();
  bool captured() const;
  const std::string& capture_error() const { return error_; }

 private:
  struct Graph;
  std::function<void()> work_;
  at::Device device_;
  int warmup_left_;
  bool enabled_;
  std::unique_ptr<Graph> graph_;
  std::string error_;
};

// Host memory the device can copy from asynchronously (pinned on CUDA), and the event that says
// the last copy out of it finished, so it is not overwritten early.
class HostStaging {
 public:
  explicit HostStaging(at::Device device);
  ~HostStaging();
  // A host tensor like `device_tensor` to fill and then copy with CopyToDevice.
  at::Tensor Like(const at::Tensor& device_tensor) const;
  // Waits until the previous copies have been read (call before writing the host tensors).
  void WaitForPreviousCopies();
  // Asynchronous host -> device copies of the pairs, on the current stream; then records.
  void CopyToDevice(const std::vector<std::pair<at::Tensor, at::Tensor>>& host_to_device);

 private:
  struct Impl;
  at::Device device_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace zett

#endif  // ZETT_CORE_COMPAT_CUDA_GRAPH_H_
