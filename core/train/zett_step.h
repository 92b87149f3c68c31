// The device side of a ZeTT training step (docs/training.md): the hypernetwork predicts the batch
// vocabulary's embeddings, the frozen backbone runs with them, and loss = LM cross-entropy
// (summed, scaled by 1 / the step's token count) + aux_weight × the auxiliary loss; then the
// gradient is clipped and AdamW updates the hypernetwork.
//
// Every tensor has a shape fixed by the batch options, the inputs are copied into tensors the
// step owns, and nothing reads a value back to the host: the gradient pass and the update are
// each captured once as a CUDA graph and replayed (core/compat/cuda_graph.h), so a step costs a
// few launches instead of ~1,000 kernel launches and host round trips. On the CPU, or with
// cuda_graph off, the same code runs eagerly.
#ifndef ZETT_CORE_TRAIN_ZETT_STEP_H_
#define ZETT_CORE_TRAIN_ZETT_STEP_H_

#include <ATen/ATen.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/compat/cuda_graph.h"
#include "core/hypernet/hypernet.h"
#include "core/model/pretrained.h"
#include "core/train/cross_entropy.h"
#include "core/train/flat_adamw.h"
#include "core/train/zett_batch.h"

namespace zett {

// A batch's tensors on the device (long ids, float bias).
struct DeviceBatch {
  at::Tensor input_ids, labels;                   // [B, T]
  at::Tensor surface_forms;                       // [P, L]
  at::Tensor row_source, aux_source, vocab_bias;  // [P]
};
DeviceBatch ToDevice(const ZettBatch& batch, at::Device device);

struct ZettLosses {
  at::Tensor lm_nats;  // summed over the batch's labels (0 for MIMICK batches)
  at::Tensor aux;      // the batch's auxiliary loss (a mean)
};

// What a step computes in: the frozen backbone, and the hypernetwork's forward and backward
// (its parameters stay in their own dtype, fp32: Hypernet::ForwardStatic casts them).
// How a step computes: its dtypes and the kernel of its LM loss.
struct StepPrecision {
  at::ScalarType backbone = at::kFloat;
  at::ScalarType hypernet = at::kFloat;
  CrossEntropyKernel cross_entropy = CrossEntropyKernel::kAuto;
};

// The losses of one batch; differentiable in the hypernetwork. Also what validation calls.
ZettLosses ComputeLosses(const Hypernet& hypernet, PretrainedBackbone& backbone,
                         const at::Tensor& source_embeddings, const DeviceBatch& batch,
                         const StepPrecision& precision, bool mimick,
                         const std::map<std::string, at::Tensor>& cast_parameters = {});

struct ZettStepOptions {
  double aux_weight = 0.5;
  double grad_clip = 0.1;
  int64_t shards = 1;  // batches per step over all ranks (the aux loss is their mean)
  StepPrecision precision;
  bool cuda_graph = true;
  // Mixed precision: cast the hypernetwork's parameters in one kernel (FlatAdamW::
  // CastParameters) rather than one per parameter.
  bool flat_cast = true;
};

// Running sums of a logging interval, kept on the device.
struct StepStats {
  double lm_nats = 0, aux = 0, grad_norm = 0;
  int64_t steps = 0;
};

class ZettStep {
 public:
  // `shape`: of every main batch; `batch_size`: texts per batch. The optimizer holds the
  // hypernetwork's trainable parameters.
  ZettStep(const Hypernet& hypernet, PretrainedBackbone& backbone, at::Tensor source_embeddings,
           FlatAdamW& optimizer, const ZettStepOptions& options, const ZettBatchOptions& shape,
           int64_t batch_size, at::Device device);
  ~ZettStep();

  // The step's label count over its batches (this rank's; all-reduce count() across ranks
  // before the first AccumulateGradients of the step).
  void SetTokenCount(int64_t tokens);
  at::Tensor& count() { return count_; }
  // The loss of `batch` backpropagated into the optimizer's flat gradients (adding to them).
  absl::Status AccumulateGradients(const ZettBatch& batch);
  // Clip, update with `lr`, clear the gradients. Call once per step, after every batch.
  void Update(double lr);
  // This rank's interval sums of the LM and aux loss (to all-reduce before TakeStats).
  std::vector<at::Tensor> loss_sums() { return {lm_sum_, aux_sum_}; }
  // The interval's mean losses (reads the device: only when logging), then resets them.
  StepStats TakeStats();

  // For the logs: whether the two passes run as CUDA graphs, and why not.
  std::string GraphStatus() const;

 private:
  absl::Status Load(const ZettBatch& batch);
  void GradientPass();
  void UpdatePass();

  const Hypernet& hypernet_;
  PretrainedBackbone& backbone_;
  at::Tensor source_;
  FlatAdamW& optimizer_;
  ZettStepOptions options_;
  at::Device device_;
  DeviceBatch inputs_;  // the captured passes read these
  DeviceBatch host_;    // staging copies on the host (pinned on CUDA)
  HostStaging staging_;
  at::Tensor count_;                        // [] fp32: the step's label count
  at::Tensor lm_sum_, aux_sum_, norm_sum_;  // [] fp32 interval sums
  int64_t steps_ = 0;
  std::unique_ptr<CapturedWork> gradient_pass_, update_pass_;
};

}  // namespace zett

#endif  // ZETT_CORE_TRAIN_ZETT_STEP_H_
