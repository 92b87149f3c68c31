#include "core/train/cross_entropy.h"

#ifdef ZETT_WITH_CUDA
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/csrc/autograd/custom_function.h>

#include "core/train/cross_entropy_kernel.h"
#endif

namespace zett {
namespace {

at::Tensor ReferenceCrossEntropySum(const at::Tensor& logits, const at::Tensor& labels,
                                    int64_t ignore_index) {
  return at::cross_entropy_loss(logits.to(at::kFloat), labels, {}, at::Reduction::Sum,
                                ignore_index);
}

#ifdef ZETT_WITH_CUDA
cuda_kernels::LogitsType KernelType(const at::Tensor& logits) {
  return logits.scalar_type() == at::kBFloat16 ? cuda_kernels::LogitsType::kBFloat16
                                               : cuda_kernels::LogitsType::kFloat32;
}

void* CurrentStream() { return at::cuda::getCurrentCUDAStream().stream(); }

// Saves the logits and one log-sum-exp per row; the gradient is made only in backward.
class FusedCrossEntropy : public torch::autograd::Function<FusedCrossEntropy> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& logits,
                            const at::Tensor& labels, int64_t ignore_index) {
    const c10::cuda::CUDAGuard guard(logits.device());
    const at::Tensor x = logits.contiguous();
    const at::Tensor y = labels.to(x.device(), at::kLong).contiguous();
    TORCH_CHECK(y.dim() == 1 && y.size(0) == x.size(0), "cross-entropy: ", y.numel(),
                " labels for ", x.size(0), " rows of logits");
    const at::TensorOptions fp32 = x.options().dtype(at::kFloat);
    at::Tensor lse = at::empty({x.size(0)}, fp32);
    at::Tensor row_loss = at::empty({x.size(0)}, fp32);
    cuda_kernels::LaunchRowLogSumExp(KernelType(x), x.data_ptr(), y.data_ptr<int64_t>(), x.size(0),
                                     x.size(1), ignore_index, lse.data_ptr<float>(),
                                     row_loss.data_ptr<float>(), CurrentStream());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    ctx->save_for_backward({x, y, lse});
    ctx->saved_data["ignore_index"] = ignore_index;
    return row_loss.sum();
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor& x = saved[0];
    const c10::cuda::CUDAGuard guard(x.device());
    const at::Tensor grad_loss = grad_outputs[0].to(at::kFloat).contiguous();
    at::Tensor grad = at::empty_like(x);
    cuda_kernels::LaunchCrossEntropyGrad(
        KernelType(x), x.data_ptr(), saved[1].data_ptr<int64_t>(), saved[2].data_ptr<float>(),
        grad_loss.data_ptr<float>(), x.size(0), x.size(1), ctx->saved_data["ignore_index"].toInt(),
        grad.data_ptr(), CurrentStream());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
    return {grad, at::Tensor(), at::Tensor()};
  }
};
#endif

}  // namespace

bool FusedCrossEntropyApplies(const at::Tensor& logits) {
#ifdef ZETT_WITH_CUDA
  return logits.is_cuda() && logits.dim() == 2 &&
         (logits.scalar_type() == at::kBFloat16 || logits.scalar_type() == at::kFloat);
#else
  (void)logits;
  return false;
#endif
}

at::Tensor CrossEntropySum(const at::Tensor& logits, const at::Tensor& labels, int64_t ignore_index,
                           CrossEntropyKernel kernel) {
#ifdef ZETT_WITH_CUDA
  if (kernel == CrossEntropyKernel::kAuto && FusedCrossEntropyApplies(logits)) {
    return FusedCrossEntropy::apply(logits, labels, ignore_index);
  }
#endif
  (void)kernel;
  return ReferenceCrossEntropySum(logits, labels, ignore_index);
}

}  // namespace zett
