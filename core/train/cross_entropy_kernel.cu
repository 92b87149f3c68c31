// One block per row: a pass that reduces the row to its log-sum-exp (forward) and a pass that
// writes softmax − one-hot (backward). Logits are read in 16-byte packs when the row allows;
// nothing of the row's size is written in the forward, and the gradient is written once, in
// the logits' type, instead of the fp32 copies, log-probabilities and casts of the unfused op.
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <math_constants.h>

#include "core/train/cross_entropy_kernel.h"

namespace zett::cuda_kernels {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;

template <typename T, int kVec>
struct alignas(sizeof(T) * kVec) Pack {
  T v[kVec];
};

__device__ __forceinline__ float ToFloat(float x) { return x; }
__device__ __forceinline__ float ToFloat(__nv_bfloat16 x) { return __bfloat162float(x); }
template <typename T>
__device__ __forceinline__ T FromFloat(float x);
template <>
__device__ __forceinline__ float FromFloat<float>(float x) {
  return x;
}
template <>
__device__ __forceinline__ __nv_bfloat16 FromFloat<__nv_bfloat16>(float x) {
  return __float2bfloat16(x);
}

// A running softmax denominator: Σ exp(x − max) over the elements seen.
struct MaxSum {
  float max;
  float sum;
};

__device__ __forceinline__ MaxSum Combine(MaxSum a, MaxSum b) {
  const float m = fmaxf(a.max, b.max);
  if (m == -CUDART_INF_F) return {m, 0.f};  // neither has seen an element
  return {m, a.sum * expf(a.max - m) + b.sum * expf(b.max - m)};
}

__device__ MaxSum WarpReduce(MaxSum v) {
  for (int offset = 16; offset > 0; offset /= 2) {
    const MaxSum other{__shfl_xor_sync(0xffffffffu, v.max, offset),
                       __shfl_xor_sync(0xffffffffu, v.sum, offset)};
    v = Combine(v, other);
  }
  return v;
}

// The block's total, valid in thread 0.
__device__ MaxSum BlockReduce(MaxSum v) {
  __shared__ MaxSum warp_totals[kWarps];
  v = WarpReduce(v);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0) warp_totals[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < kWarps ? warp_totals[lane] : MaxSum{-CUDART_INF_F, 0.f};
    v = WarpReduce(v);
  }
  return v;
}

template <typename T, int kVec>
__global__ void __launch_bounds__(kThreads)
    RowLogSumExp(const T* logits, const int64_t* labels, int64_t cols, int64_t ignore_index,
                 float* lse, float* row_loss) {
  const int64_t row = blockIdx.x;
  const T* x = logits + row * cols;
  const auto* packs = reinterpret_cast<const Pack<T, kVec>*>(x);
  MaxSum local{-CUDART_INF_F, 0.f};
  for (int64_t i = threadIdx.x; i < cols / kVec; i += kThreads) {
    const Pack<T, kVec> p = packs[i];
    float values[kVec];
    float pack_max = -CUDART_INF_F;
    for (int k = 0; k < kVec; ++k) {
      values[k] = ToFloat(p.v[k]);
      pack_max = fmaxf(pack_max, values[k]);
    }
    float pack_sum = 0.f;
    for (int k = 0; k < kVec; ++k) pack_sum += expf(values[k] - pack_max);
    local = Combine(local, {pack_max, pack_sum});
  }
  const MaxSum total = BlockReduce(local);
  if (threadIdx.x != 0) return;
  const float row_lse = total.max + logf(total.sum);
  lse[row] = row_lse;
  const int64_t label = labels[row];
  if (label == ignore_index) {
    row_loss[row] = 0.f;
  } else if (label < 0 || label >= cols) {
    row_loss[row] = CUDART_NAN_F;  // visible in the loss instead of a read out of bounds
  } else {
    row_loss[row] = row_lse - ToFloat(x[label]);
  }
}

template <typename T, int kVec>
__global__ void __launch_bounds__(kThreads)
    CrossEntropyGrad(const T* logits, const int64_t* labels, const float* lse,
                     const float* grad_loss, int64_t cols, int64_t ignore_index, T* grad) {
  const int64_t row = blockIdx.x;
  const int64_t label = labels[row];
  const float scale = label == ignore_index ? 0.f : *grad_loss;
  const float row_lse = lse[row];
  const auto* in = reinterpret_cast<const Pack<T, kVec>*>(logits + row * cols);
  auto* out = reinterpret_cast<Pack<T, kVec>*>(grad + row * cols);
  for (int64_t i = threadIdx.x; i < cols / kVec; i += kThreads) {
    const Pack<T, kVec> p = in[i];
    Pack<T, kVec> q;
    for (int k = 0; k < kVec; ++k) {
      const int64_t j = i * kVec + k;
      const float probability = expf(ToFloat(p.v[k]) - row_lse);
      q.v[k] = FromFloat<T>(scale * (probability - (j == label ? 1.f : 0.f)));
    }
    out[i] = q;
  }
}

// 16-byte packs when every row starts 16-byte aligned; single elements otherwise.
template <typename T>
bool Packed(const void* logits, int64_t cols) {
  constexpr int kVec = 16 / sizeof(T);
  return cols % kVec == 0 && reinterpret_cast<uintptr_t>(logits) % 16 == 0;
}

template <typename T>
void RowLogSumExpTyped(const void* logits, const int64_t* labels, int64_t rows, int64_t cols,
                       int64_t ignore_index, float* lse, float* row_loss, cudaStream_t stream) {
  constexpr int kVec = 16 / sizeof(T);
  const T* x = static_cast<const T*>(logits);
  if (Packed<T>(logits, cols)) {
    RowLogSumExp<T, kVec>
        <<<rows, kThreads, 0, stream>>>(x, labels, cols, ignore_index, lse, row_loss);
  } else {
    RowLogSumExp<T, 1><<<rows, kThreads, 0, stream>>>(x, labels, cols, ignore_index, lse, row_loss);
  }
}

template <typename T>
void CrossEntropyGradTyped(const void* logits, const int64_t* labels, const float* lse,
                           const float* grad_loss, int64_t rows, int64_t cols, int64_t ignore_index,
                           void* grad, cudaStream_t stream) {
  constexpr int kVec = 16 / sizeof(T);
  const T* x = static_cast<const T*>(logits);
  T* g = static_cast<T*>(grad);
  if (Packed<T>(logits, cols) && Packed<T>(grad, cols)) {
    CrossEntropyGrad<T, kVec>
        <<<rows, kThreads, 0, stream>>>(x, labels, lse, grad_loss, cols, ignore_index, g);
  } else {
    CrossEntropyGrad<T, 1>
        <<<rows, kThreads, 0, stream>>>(x, labels, lse, grad_loss, cols, ignore_index, g);
  }
}

}  // namespace

void LaunchRowLogSumExp(LogitsType type, const void* logits, const int64_t* labels, int64_t rows,
                        int64_t cols, int64_t ignore_index, float* lse, float* row_loss,
                        void* stream) {
  if (rows == 0) return;
  auto s = static_cast<cudaStream_t>(stream);
  if (type == LogitsType::kBFloat16) {
    RowLogSumExpTyped<__nv_bfloat16>(logits, labels, rows, cols, ignore_index, lse, row_loss, s);
  } else {
    RowLogSumExpTyped<float>(logits, labels, rows, cols, ignore_index, lse, row_loss, s);
  }
}

void LaunchCrossEntropyGrad(LogitsType type, const void* logits, const int64_t* labels,
                            const float* lse, const float* grad_loss, int64_t rows, int64_t cols,
                            int64_t ignore_index, void* grad, void* stream) {
  if (rows == 0) return;
  auto s = static_cast<cudaStream_t>(stream);
  if (type == LogitsType::kBFloat16) {
    CrossEntropyGradTyped<__nv_bfloat16>(logits, labels, lse, grad_loss, rows, cols, ignore_index,
                                         grad, s);
  } else {
    CrossEntropyGradTyped<float>(logits, labels, lse, grad_loss, rows, cols, ignore_index, grad, s);
  }
}

}  // namespace zett::cuda_kernels
