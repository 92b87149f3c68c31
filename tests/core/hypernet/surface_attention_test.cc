// ExplicitAttention (what the hypernetwork runs in fp32 on CUDA) against LibTorch's fused
// scaled_dot_product_attention: same values and gradients, with and without a padding mask,
// for a full query and the last layer's single position-0 query.
#include "core/hypernet/surface_attention.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/compat/torch_compat.h"

namespace zett {
namespace {

struct Case {
  int64_t query_len;
  bool masked;
};

class SurfaceAttentionTest : public ::testing::TestWithParam<Case> {};

void ExpectSameAttention(const Case& c, at::Device device) {
  at::manual_seed(7);
  const int64_t batch = 5, heads = 4, length = 7, head_dim = 16;
  const auto options = at::TensorOptions().dtype(at::kFloat).device(device);
  const at::Tensor q = at::randn({batch, heads, c.query_len, head_dim}, options);
  const at::Tensor k = at::randn({batch, heads, length, head_dim}, options);
  const at::Tensor v = at::randn({batch, heads, length, head_dim}, options);
  at::Tensor mask;
  if (c.masked) {  // rows of lengths 1..5: the padding keys get the additive mask value
    at::Tensor lengths = at::arange(1, batch + 1, options.dtype(at::kLong)).view({batch, 1});
    at::Tensor keep = at::arange(length, options.dtype(at::kLong)).view({1, length}) < lengths;
    mask = at::zeros({batch, length}, options)
               .masked_fill(keep.logical_not(), -1e30)
               .view({batch, 1, 1, length});
  }
  at::Tensor weights = at::randn({batch, heads, c.query_len, head_dim}, options);

  // Output and the gradients of q, k, v for one attention function.
  auto run = [&](auto attention, std::vector<at::Tensor>* grads) {
    std::vector<at::Tensor> leaves = {q.clone().requires_grad_(), k.clone().requires_grad_(),
                                      v.clone().requires_grad_()};
    at::Tensor out = attention(leaves[0], leaves[1], leaves[2], mask);
    (out * weights).sum().backward();
    for (const at::Tensor& leaf : leaves) grads->push_back(leaf.grad());
    return out.detach();
  };
  std::vector<at::Tensor> fused_grads, explicit_grads;
  const at::Tensor fused =
      run([](const at::Tensor& a, const at::Tensor& b, const at::Tensor& c,
             const at::Tensor& m) { return ScaledDotProductAttention(a, b, c, m); },
          &fused_grads);
  const at::Tensor explicit_out = run(ExplicitAttention, &explicit_grads);

  EXPECT_TRUE(at::allclose(explicit_out, fused, 1e-5, 1e-5))
      << "max |diff| " << (explicit_out - fused).abs().max().item<float>();
  for (size_t i = 0; i < fused_grads.size(); ++i) {
    EXPECT_TRUE(at::allclose(explicit_grads[i], fused_grads[i], 1e-4, 1e-5))
        << "gradient " << i << ": max |diff| "
        << (explicit_grads[i] - fused_grads[i]).abs().max().item<float>();
  }
}

TEST_P(SurfaceAttentionTest, ExplicitEqualsFusedOnTheCpu) {
  ExpectSameAttention(GetParam(), at::kCPU);
}

TEST_P(SurfaceAttentionTest, ExplicitEqualsFusedOnCuda) {
  if (!CudaAvailable()) GTEST_SKIP() << "no CUDA device";
  ExpectSameAttention(GetParam(), at::Device(at::kCUDA, 0));
}

INSTANTIATE_TEST_SUITE_P(QueriesAndMasks, SurfaceAttentionTest,
                         ::testing::Values(Case{7, false}, Case{7, true}, Case{1, false},
                                           Case{1, true}));

}  // namespace
}  // namespace zett
