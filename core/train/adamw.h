// AdamW with fp32 master weights (Loshchilov & Hutter; the update torch.optim.AdamW makes).
// The model may run in bf16: its parameters' gradients are read in whatever dtype they have,
// the update is applied to fp32 masters, and the masters are copied back into the parameters.
// The whole state (masters, moments, step) is a TensorMap, so checkpoints are safetensors and
// resuming reproduces the uninterrupted run.
#ifndef ZETT_CORE_TRAIN_ADAMW_H_
#define ZETT_CORE_TRAIN_ADAMW_H_

#include <ATen/ATen.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace zett {

struct AdamWOptions {
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double weight_decay = 0.1;
};

class AdamW {
 public:
  // `params`: (name, parameter) pairs. Weight decay applies to parameters with ≥ 2 dims only
  // (not to biases and norm weights).
  AdamW(std::vector<std::pair<std::string, at::Tensor>> params, AdamWOptions options);

  // Scales all gradients so their global L2 norm is at most `max_norm` (if > 0); returns the
  // norm before clipping.
  double ClipGradNorm(double max_norm);

  // One update with learning rate `lr`; gradients are then cleared.
  void Step(double lr);

  int64_t step() const { return step_; }

  // "master/<name>", "exp_avg/<name>", "exp_avg_sq/<name>" (fp32, CPU) and "step" (int64 [1]).
  std::map<std::string, at::Tensor> State() const;
  // Restores State(); INVALID_ARGUMENT when a tensor is missing or mis-shaped. Parameters are
  // overwritten with the restored masters.
  absl::Status LoadState(const std::map<std::string, at::Tensor>& state);

 private:
  struct Slot {
    std::string name;
    at::Tensor param;   // the model's tensor (any dtype)
    at::Tensor master;  // fp32; the same tensor as `param` when that is fp32
    at::Tensor exp_avg, exp_avg_sq;
    bool decay;
  };
  std::vector<Slot> slots_;
  AdamWOptions options_;
  int64_t step_ = 0;
};

}  // namespace zett

#endif  // ZETT_CORE_TRAIN_ADAMW_H_
