// Raw CUDA launchers of the fused cross-entropy (cross_entropy.h holds the tensor interface).
// Kept free of ATen so that nvcc compiles only the kernels.
#ifndef ZETT_CORE_TRAIN_CROSS_ENTROPY_KERNEL_H_
#define ZETT_CORE_TRAIN_CROSS_ENTROPY_KERNEL_H_

#include <cstdint>

namespace zett::cuda_kernels {

enum class LogitsType { kBFloat16, kFloat32 };

// Per row r of `logits` ([rows, cols], row-major): lse[r] = log Σ_j exp(x[r, j]) and
// row_loss[r] = lse[r] − x[r, labels[r]] (0 where labels[r] == ignore_index, NaN where the
// label is out of range). Accumulates in fp32. `stream` is a cudaStream_t.
void LaunchRowLogSumExp(LogitsType type, const void* logits, const int64_t* labels, int64_t rows,
                        int64_t cols, int64_t ignore_index, float* lse, float* row_loss,
                        void* stream);

// grad[r, j] = *grad_loss · (exp(x[r, j] − lse[r]) − [j == labels[r]]), 0 on ignored rows,
// written in the logits' type: the gradient of Σ_r row_loss[r] scaled by *grad_loss.
void LaunchCrossEntropyGrad(LogitsType type, const void* logits, const int64_t* labels,
                            const float* lse, const float* grad_loss, int64_t rows, int64_t cols,
                            int64_t ignore_index, void* grad, void* stream);

}  // namespace zett::cuda_kernels

#endif  // ZETT_CORE_TRAIN_CROSS_ENTROPY_KERNEL_H_
