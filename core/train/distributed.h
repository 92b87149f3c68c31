// Data-parallel training through LibTorch's c10d (docs/training.md, "Data-parallel training"):
// one process per device, a TCPStore rendezvous at MASTER_ADDR:MASTER_PORT served by rank 0, and
// a process group for the collectives: ProcessGroupNCCL on CUDA (when the build found NCCL),
// ProcessGroupGloo otherwise (CUDA tensors then travel through host memory). NVLink multicast
// stays off (NCCL_NVLS_ENABLE=0 unless the caller set it): it can take a shared host's GPUs out
// of service.
#ifndef ZETT_CORE_TRAIN_DISTRIBUTED_H_
#define ZETT_CORE_TRAIN_DISTRIBUTED_H_

#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace zett {

struct DistributedOptions {
  int64_t world_size = 1;
  int64_t rank = 0;
  int64_t local_rank = -1;  // rank on this host: picks the CUDA device; -1 = rank
  std::string master_addr = "127.0.0.1";
  int64_t master_port = 29500;
  std::string backend = "auto";  // auto = nccl on CUDA when built with it, else gloo
  int64_t timeout_seconds = 1800;
};

// torchrun's environment: WORLD_SIZE, RANK, LOCAL_RANK, MASTER_ADDR, MASTER_PORT (each optional,
// defaults as above). INVALID_ARGUMENT for a malformed or inconsistent value.
absl::StatusOr<DistributedOptions> DistributedOptionsFromEnv();

// INVALID_ARGUMENT unless 0 <= rank < world_size, the port is valid and the backend known.
absl::Status ValidateDistributedOptions(const DistributedOptions& options);

// Which backends this build has ("gloo", "nccl").
std::vector<std::string> AvailableBackends();

// A process group of `world_size` ranks; with world size 1 every collective is a no-op and no
// store or sockets exist. All ranks must call the collectives in the same order.
class Communicator {
 public:
  // Blocks until all ranks joined (up to timeout_seconds). `device`: where the tensors passed
  // to the collectives live.
  static absl::StatusOr<std::unique_ptr<Communicator>> Create(const DistributedOptions& options,
                                                              at::Device device);
  ~Communicator();

  int64_t rank() const { return rank_; }
  int64_t world_size() const { return world_size_; }
  bool is_root() const { return rank_ == 0; }
  const std::string& backend() const { return backend_; }

  // Sums the tensors over all ranks, in place. They must share one dtype and device; they travel
  // as one flat buffer (one collective).
  absl::Status AllReduceSum(const std::vector<at::Tensor>& tensors);
  // Overwrites the tensors with rank 0's values (one collective).
  absl::Status Broadcast(const std::vector<at::Tensor>& tensors);
  // Returns when every rank has called it.
  absl::Status Barrier();
  // Every rank passes a string; rank 0 gets all of them in rank order (through the store),
  // the others an empty vector. `tag` must be unique per call (e.g. include the step).
  absl::StatusOr<std::vector<std::string>> GatherToRoot(const std::string& tag,
                                                        const std::string& mine);

 private:
  struct Impl;
  Communicator(int64_t rank, int64_t world_size, at::Device device);
  int64_t rank_, world_size_;
  at::Device device_;
  std::string backend_ = "none";
  std::unique_ptr<Impl> impl_;
};

}  // namespace zett

#endif  // ZETT_CORE_TRAIN_DISTRIBUTED_H_
