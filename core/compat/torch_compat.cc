#include "core/compat/torch_compat.h"

#include <torch/version.h>

#include <limits>

#ifdef ZETT_WITH_CUDA
#include <dlfcn.h>
#endif

namespace zett {
namespace {

// Both versions accept boolean masks, but 1.13's private entry point is less tested with them;
// an additive mask in the query dtype behaves the same everywhere.
at::Tensor AdditiveMask(const at::Tensor& mask, const at::Tensor& like) {
  if (!mask.defined() || mask.scalar_type() != at::kBool) return mask;
  auto additive = at::zeros(mask.sizes(), like.options());
  return additive.masked_fill(mask.logical_not(), -std::numeric_limits<float>::infinity());
}

}  // namespace

at::Tensor ScaledDotProductAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                     const at::Tensor& attn_mask, bool is_causal) {
  at::Tensor mask = AdditiveMask(attn_mask, q);
  // An undefined tensor converts to an engaged optional, which the kernels then add.
  auto optional_mask = [&mask]() -> c10::optional<at::Tensor> {
    if (mask.defined()) return mask;
    return c10::nullopt;
  };
#if TORCH_VERSION_MAJOR >= 2
  return at::scaled_dot_product_attention(q, k, v, optional_mask(), /*dropout_p=*/0.0, is_causal);
#else
  if (is_causal && mask.defined()) {
    // 1.13 rejects an explicit mask together with is_causal; fold causality into the mask.
    const int64_t tq = q.size(-2), tk = k.size(-2);
    auto causal = at::ones({tq, tk}, q.options().dtype(at::kBool)).tril(tk - tq);
    mask = mask + AdditiveMask(causal, q);
    is_causal = false;
  }
  return std::get<0>(at::_scaled_dot_product_attention(q, k, v, optional_mask(), /*dropout_p=*/0.0,
                                                       /*need_attn_weights=*/false, is_causal));
#endif
}

bool SetAttentionBackend(const std::string& name) {
  at::Context& context = at::globalContext();
#if TORCH_VERSION_MAJOR >= 2
  const bool all = name == "auto", fused = name == "fused";
  if (!all && !fused && name != "flash" && name != "efficient" && name != "cudnn" &&
      name != "math") {
    return false;
  }
  context.setSDPUseFlash(all || fused || name == "flash");
  context.setSDPUseMemEfficient(all || fused || name == "efficient");
  context.setSDPUseCuDNN(all || name == "cudnn");
  context.setSDPUseMath(true);
  return true;
#else
  if (name != "auto" && name != "fused" && name != "flash" && name != "math") return false;
  context.setSDPUseFlash(name != "math");
  context.setSDPUseMath(true);
  return true;
#endif
}

bool CudaAvailable() {
#ifdef ZETT_WITH_CUDA
  // libtorch_cuda.so registers CUDA with ATen from its static initialisers. A binary that names
  // none of its symbols loses it to a toolchain's default --as-needed (Ubuntu's does: zett-server
  // on the GPU host ran on the CPU), so load it here, once; harmless when already loaded.
  static const bool loaded = dlopen("libtorch_cuda.so", RTLD_NOW | RTLD_GLOBAL) != nullptr;
  (void)loaded;
#endif
  return at::hasCUDA();
}

std::string TorchVersion() { return TORCH_VERSION; }

}  // namespace zett
