// AdamW over one flat buffer (Loshchilov & Hutter; the update torch.optim.AdamW makes).
//
// The parameters are moved into one contiguous fp32 master buffer and become views of it (or,
// for a model held in bf16, of a flat buffer of that dtype that the masters are copied to);
// their gradients are views of one flat gradient buffer, which autograd accumulates into in
// place. Clipping and the update are then a handful of kernels on a few million floats,
// whatever the number of parameters, with no host synchronisation: the learning rate, the step
// count and the gradient norm live on the device. That makes a whole training step capturable
// as one CUDA graph, and data-parallel gradient reduction one all-reduce of one buffer.
//
// State() / LoadState() use the per-parameter keys "master/<name>", "exp_avg/<name>",
// "exp_avg_sq/<name>" and "step", so checkpoints are safetensors and resuming reproduces the
// uninterrupted run.
#ifndef ZETT_CORE_TRAIN_FLAT_ADAMW_H_
#define ZETT_CORE_TRAIN_FLAT_ADAMW_H_

#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace zett {

struct AdamWOptions {
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double weight_decay = 0.1;
};

class FlatAdamW {
 public:
  // `params`: (name, parameter) pairs, all of one dtype and device. Each parameter tensor is
  // re-pointed at its slice of the flat buffer (the caller's handles see it: they share the
  // TensorImpl) and gets requires_grad. Weight decay applies to parameters with >= 2 dims.
  FlatAdamW(std::vector<std::pair<std::string, at::Tensor>> params, AdamWOptions options);

  // Zeroes the flat gradient buffer and re-attaches every parameter's .grad view of it.
  void ZeroGrad();

  // Scales the gradients so their global L2 norm is at most `max_norm` (if > 0). Returns the
  // norm before clipping, a device scalar (read it only when logging).
  at::Tensor ClipGradNorm(double max_norm);

  // One update; `lr` is a device scalar (fp32) so a captured step reads a new value per replay.
  void Step(const at::Tensor& lr);
  // The same with a host learning rate (copied into the device scalar).
  void Step(double lr);

  int64_t step() const;  // synchronises: for checkpoints and logs only

  // The parameters cast to `dtype` in one kernel, as views by name, for a mixed-precision
  // forward. Their gradient is added to flat_gradients() in one kernel (one cat, for the
  // split, before it), where casting each parameter on its own costs a cast, a cast back and
  // an accumulation per parameter: ~150 small kernels of the training step (docs/training.md).
  std::map<std::string, at::Tensor> CastParameters(at::ScalarType dtype) const;

  const at::Tensor& flat_gradients() const { return flat_grad_; }
  const at::Tensor& lr_tensor() const { return lr_; }
  int64_t numel() const { return master_.numel(); }

  std::map<std::string, at::Tensor> State() const;
  // INVALID_ARGUMENT when a tensor is missing or mis-shaped. Parameters get the restored masters.
  absl::Status LoadState(const std::map<std::string, at::Tensor>& state);

 private:
  struct Slot {
    std::string name;
    at::Tensor param;  // the caller's tensor, now a view of flat_param_
    int64_t offset, numel;
  };
  void CopyMastersToParams();

  std::vector<Slot> slots_;
  AdamWOptions options_;
  at::Tensor master_;       // [N] fp32
  at::Tensor flat_param_;   // [N] in the parameters' dtype; the same tensor as master_ for fp32
  at::Tensor flat_grad_;    // [N] in the parameters' dtype
  at::Tensor cast_anchor_;  // [0], requires grad: puts CastParameters' node in the graph
  at::Tensor exp_avg_, exp_avg_sq_;
  at::Tensor decay_;  // [N] fp32: 1 where weight decay applies
  at::Tensor step_;   // [] fp32 on the device
  at::Tensor lr_;     // [] fp32 on the device
};

}  // namespace zett

#endif  // ZETT_CORE_TRAIN_FLAT_ADAMW_H_
