#include "core/hypernet/surface_attention.h"

#include <cmath>

#include "core/compat/torch_compat.h"

namespace zett {

at::Tensor ExplicitAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                             const at::Tensor& additive_mask) {
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size(-1)));
  at::Tensor scores = at::matmul(q, k.transpose(-2, -1)).mul_(scale);
  if (additive_mask.defined()) scores = scores + additive_mask;
  return at::matmul(at::softmax(scores, -1), v);
}

at::Tensor SurfaceFormAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                const at::Tensor& additive_mask) {
  if (q.is_cuda() && q.scalar_type() == at::kFloat)
    return ExplicitAttention(q, k, v, additive_mask);
  return ScaledDotProductAttention(q, k, v, additive_mask);
}

}  // namespace zett
