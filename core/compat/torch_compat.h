// Thin layer over what differs between LibTorch 1.13 (Debian, CPU) and 2.x (GPU hosts).
// Everything else in the project uses the ATen API both versions share.
#ifndef ZETT_CORE_COMPAT_TORCH_COMPAT_H_
#define ZETT_CORE_COMPAT_TORCH_COMPAT_H_

#include <ATen/ATen.h>

#include <string>

namespace zett {

// softmax(q kᵀ / √d + mask) v over the last two dims; q, k, v: [..., T, d].
// `attn_mask` may be undefined, boolean (true = attend) or additive float, broadcastable to
// [..., Tq, Tk]. `is_causal` adds the lower-triangular mask. Dispatches to the fused kernel
// where the LibTorch version has one.
at::Tensor ScaledDotProductAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                     const at::Tensor& attn_mask = {}, bool is_causal = false);

// Restricts, process-wide, which kernels ScaledDotProductAttention may choose: "auto" (all:
// LibTorch's own choice), "fused" (flash and memory-efficient, not cuDNN, which builds a plan
// for every new shape), or one of "flash", "efficient", "cudnn" next to the unfused "math"
// fallback, or "math" alone. False when this LibTorch has no such backend (1.13 has flash
// and math only; cudnn needs 2.x).
bool SetAttentionBackend(const std::string& name);

// True when LibTorch was built with CUDA and a device is visible. In CUDA builds, loads
// libtorch_cuda.so first if the binary was linked without it. Call before choosing a device.
bool CudaAvailable();

// "1.13.0", "2.11.0", …: the LibTorch this binary was compiled against.
std::string TorchVersion();

}  // namespace zett

#endif  // ZETT_CORE_COMPAT_TORCH_COMPAT_H_
