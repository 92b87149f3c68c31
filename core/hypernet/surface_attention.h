// Attention inside the hypernetwork: over one token's surface form, at most hn_surface_maxlen
// (7) positions. In fp32 on CUDA there is no flash kernel, and the memory-efficient kernel
// pads every 7-position sequence to 64 × 64 tiles: in a training step it took 9 of 32 ms
// (docs/training.md, the Kineto trace of scripts/bench/train_step.sh). Two small batched
// products and a softmax do the same work in a fraction of that. bf16/fp16 (the server) and
// the CPU keep at::scaled_dot_product_attention, whose fused kernels win there; the training
// step in bf16 does not (its masked forward + backward through cuDNN cost 7.5 ms of a 29 ms
// step): it calls ExplicitAttention directly.
#ifndef ZETT_CORE_HYPERNET_SURFACE_ATTENTION_H_
#define ZETT_CORE_HYPERNET_SURFACE_ATTENTION_H_

#include <ATen/ATen.h>

namespace zett {

// softmax(q kᵀ / √head_dim + additive_mask) v, written out. q: [B, heads, Tq, head_dim];
// k, v: [B, heads, T, head_dim]; additive_mask: broadcastable to [B, heads, Tq, T] or undefined.
at::Tensor ExplicitAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                             const at::Tensor& additive_mask);

// The hypernetwork's attention: ExplicitAttention for fp32 on CUDA, otherwise
// ScaledDotProductAttention (core/compat/torch_compat.h). Same arguments.
at::Tensor SurfaceFormAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                const at::Tensor& additive_mask);

}  // namespace zett

#endif  // ZETT_CORE_HYPERNET_SURFACE_ATTENTION_H_
