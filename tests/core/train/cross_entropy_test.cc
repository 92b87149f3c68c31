#include "core/train/cross_entropy.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/compat/torch_compat.h"

namespace zett {
namespace {

constexpr int64_t kIgnore = -100;

// Σ cross-entropy and its gradient written out row by row in double precision.
struct Expected {
  double loss = 0;
  at::Tensor grad;  // [N, V] double
};

Expected ByHand(const at::Tensor& logits, const at::Tensor& labels) {
  const at::Tensor x = logits.to(at::kCPU, at::kDouble).contiguous();
  const at::Tensor y = labels.to(at::kCPU).contiguous();
  Expected e;
  e.grad = at::zeros_like(x);
  for (int64_t r = 0; r < x.size(0); ++r) {
    const int64_t label = y[r].item<int64_t>();
    if (label == kIgnore) continue;
    const double* row = x[r].data_ptr<double>();
    double max = row[0];
    for (int64_t j = 1; j < x.size(1); ++j) max = std::max(max, row[j]);
    double sum = 0;
    for (int64_t j = 0; j < x.size(1); ++j) sum += std::exp(row[j] - max);
    const double lse = max + std::log(sum);
    e.loss += lse - row[label];
    double* g = e.grad[r].data_ptr<double>();
    for (int64_t j = 0; j < x.size(1); ++j) g[j] = std::exp(row[j] - lse) - (j == label ? 1 : 0);
  }
  return e;
}

struct Case {
  int64_t rows, cols;
  at::ScalarType dtype;
};

// Loss and gradient of CrossEntropySum(kernel) against the hand-written sums, with every
// third row ignored; the loss is scaled in backward to check that the scale reaches the rows.
void CheckAgainstByHand(const Case& c, at::Device device, CrossEntropyKernel kernel) {
  at::manual_seed(7);
  const at::Tensor logits =
      (at::randn({c.rows, c.cols}) * 4).to(device, c.dtype).set_requires_grad(true);
  at::Tensor labels = at::randint(c.cols, {c.rows}, at::kLong);
  labels.index_put_({at::arange(0, c.rows, 3)}, kIgnore);
  labels = labels.to(device);
  const Expected e = ByHand(logits.detach(), labels);

  const at::Tensor loss = CrossEntropySum(logits, labels, kIgnore, kernel);
  EXPECT_EQ(loss.scalar_type(), at::kFloat);
  EXPECT_NEAR(loss.item<double>(), e.loss, 1e-5 * std::abs(e.loss));
  (loss * 0.5).backward();
  const at::Tensor grad = logits.grad().to(at::kCPU, at::kDouble);
  ASSERT_EQ(logits.grad().scalar_type(), c.dtype);
  // bf16 stores the gradient with 8 significant bits; fp32 with 24.
  const double tolerance = c.dtype == at::kBFloat16 ? 4e-3 : 1e-6;
  EXPECT_LT((grad - e.grad * 0.5).abs().max().item<double>(), tolerance);
  // Ignored rows get exactly no gradient.
  EXPECT_EQ(grad.index({at::arange(0, c.rows, 3)}).abs().max().item<double>(), 0.0);
}

const Case kCases[] = {
    {37, 8320, at::kBFloat16},  // the training step's padded vocabulary: 16-byte packs
    {37, 1001, at::kBFloat16},  // a row length that is no multiple of 8: single elements
    {19, 4096, at::kFloat},
    {19, 257, at::kFloat},
};

TEST(CrossEntropySum, ReferenceMatchesSumsWrittenOut) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(testing::Message() << c.rows << " x " << c.cols << " " << c.dtype);
    CheckAgainstByHand(c, at::kCPU, CrossEntropyKernel::kAuto);
  }
}

TEST(CrossEntropySum, FusedCudaKernelsMatchSumsWrittenOut) {
  if (!CudaAvailable()) GTEST_SKIP() << "no CUDA device";
  const at::Tensor probe = at::zeros({1, 8}, at::TensorOptions().device(at::kCUDA));
  ASSERT_TRUE(FusedCrossEntropyApplies(probe)) << "a CUDA build without the fused kernels";
  for (const Case& c : kCases) {
    SCOPED_TRACE(testing::Message() << c.rows << " x " << c.cols << " " << c.dtype);
    CheckAgainstByHand(c, at::kCUDA, CrossEntropyKernel::kAuto);
    CheckAgainstByHand(c, at::kCUDA, CrossEntropyKernel::kReference);
  }
}

TEST(CrossEntropySum, FusedAndReferenceAgreeOnTheStepShape) {
  if (!CudaAvailable()) GTEST_SKIP() << "no CUDA device";
  at::manual_seed(3);
  const at::Tensor logits = (at::randn({2048, 8320}, at::TensorOptions().device(at::kCUDA)) * 3)
                                .to(at::kBFloat16)
                                .set_requires_grad(true);
  const at::Tensor labels = at::randint(8320, {2048}, logits.options().dtype(at::kLong));
  const at::Tensor fused = CrossEntropySum(logits, labels);
  fused.backward();
  const at::Tensor fused_grad = logits.grad().clone();
  logits.mutable_grad().reset();
  const at::Tensor reference =
      CrossEntropySum(logits, labels, kIgnore, CrossEntropyKernel::kReference);
  reference.backward();
  EXPECT_NEAR(fused.item<double>(), reference.item<double>(), 1e-5 * reference.item<double>());
  EXPECT_LT((fused_grad.to(at::kFloat) - logits.grad().to(at::kFloat)).abs().max().item<double>(),
            4e-3);
}

TEST(CrossEntropySum, OutOfRangeLabelIsAnErrorOrNaNNeverARead) {
  const at::Tensor logits = at::randn({2, 16});
  const at::Tensor labels = at::tensor({int64_t{3}, int64_t{16}});
  EXPECT_ANY_THROW(CrossEntropySum(logits, labels).item<double>());
  if (!CudaAvailable()) return;
  const at::Tensor loss = CrossEntropySum(logits.cuda(), labels.cuda());
  EXPECT_TRUE(std::isnan(loss.item<double>()));
}

}  // namespace
}  // namespace zett
