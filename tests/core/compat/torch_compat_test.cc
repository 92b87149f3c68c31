#include "core/compat/torch_compat.h"

#include <gtest/gtest.h>

#include <cmath>

namespace zett {
namespace {

// The textbook formula, written out with plain ops.
at::Tensor ReferenceAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                              const at::Tensor& additive_mask) {
  auto scores = at::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(q.size(-1)));
  if (additive_mask.defined()) scores = scores + additive_mask;
  return at::matmul(at::softmax(scores, -1), v);
}

at::Tensor CausalAdditive(int64_t t, const at::TensorOptions& options) {
  return at::full({t, t}, -INFINITY, options).triu(1);
}

class AttentionTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "cuda" && !CudaAvailable()) {
      GTEST_SKIP() << "no CUDA device (LibTorch " << TorchVersion() << ")";
    }
    options_ = at::TensorOptions().dtype(at::kFloat).device(at::Device(GetParam()));
    at::manual_seed(7);
    q_ = at::randn({2, 3, 5, 8}, options_);
    k_ = at::randn({2, 3, 5, 8}, options_);
    v_ = at::randn({2, 3, 5, 8}, options_);
  }
  at::TensorOptions options_;
  at::Tensor q_, k_, v_;
};

TEST_P(AttentionTest, UnmaskedMatchesFormula) {
  auto out = ScaledDotProductAttention(q_, k_, v_);
  EXPECT_TRUE(at::allclose(out, ReferenceAttention(q_, k_, v_, {}), 1e-5, 1e-5));
}

TEST_P(AttentionTest, CausalMatchesFormula) {
  auto out = ScaledDotProductAttention(q_, k_, v_, {}, /*is_causal=*/true);
  auto ref = ReferenceAttention(q_, k_, v_, CausalAdditive(5, options_));
  EXPECT_TRUE(at::allclose(out, ref, 1e-5, 1e-5));
}

TEST_P(AttentionTest, BooleanPaddingMaskIgnoresMaskedKeys) {
  // Keys 3 and 4 of batch 1 are padding: changing them must not change the output.
  auto keep = at::ones({2, 1, 1, 5}, options_.dtype(at::kBool));
  keep.index_put_({1, at::indexing::Slice(), at::indexing::Slice(), at::indexing::Slice(3, 5)},
                  false);
  auto out = ScaledDotProductAttention(q_, k_, v_, keep);
  auto k2 = k_.clone(), v2 = v_.clone();
  k2.index_put_({1, at::indexing::Slice(), at::indexing::Slice(3, 5)}, 100.0);
  v2.index_put_({1, at::indexing::Slice(), at::indexing::Slice(3, 5)}, -100.0);
  auto out2 = ScaledDotProductAttention(q_, k2, v2, keep);
  EXPECT_TRUE(at::allclose(out, out2, 1e-5, 1e-5));
  auto additive = at::zeros({2, 1, 1, 5}, options_).masked_fill(keep.logical_not(), -INFINITY);
  EXPECT_TRUE(at::allclose(out, ReferenceAttention(q_, k_, v_, additive), 1e-5, 1e-5));
}

TEST_P(AttentionTest, CausalPlusPaddingMask) {
  auto keep = at::ones({2, 1, 1, 5}, options_.dtype(at::kBool));
  keep.index_put_({0, at::indexing::Slice(), at::indexing::Slice(), 0}, false);
  auto out = ScaledDotProductAttention(q_.narrow(2, 1, 4), k_, v_, keep, /*is_causal=*/false);
  auto additive = at::zeros({2, 1, 1, 5}, options_).masked_fill(keep.logical_not(), -INFINITY);
  EXPECT_TRUE(
      at::allclose(out, ReferenceAttention(q_.narrow(2, 1, 4), k_, v_, additive), 1e-5, 1e-5));
}

TEST_P(AttentionTest, Bfloat16CloseToFloat) {
  auto out = ScaledDotProductAttention(q_.to(at::kBFloat16), k_.to(at::kBFloat16),
                                       v_.to(at::kBFloat16), {}, /*is_causal=*/true);
  auto ref = ReferenceAttention(q_, k_, v_, CausalAdditive(5, options_));
  EXPECT_EQ(out.scalar_type(), at::kBFloat16);
  EXPECT_LT((out.to(at::kFloat) - ref).abs().max().item<float>(), 0.05f);
}

INSTANTIATE_TEST_SUITE_P(Devices, AttentionTest, ::testing::Values("cpu", "cuda"),
                         [](const auto& info) { return info.param; });

TEST(TorchCompat, ReportsVersion) {
  const std::string version = TorchVersion();
  ASSERT_FALSE(version.empty());
  EXPECT_TRUE(version[0] == '1' || version[0] == '2') << version;
}

}  // namespace
}  // namespace zett
