#include "core/train/adamw.h"

#include <gtest/gtest.h>

#include <cmath>

namespace zett {
namespace {

// The AdamW update written out element by element in double precision.
struct ReferenceAdamW {
  std::vector<double> p, m, v;
  int t = 0;
  void Step(const std::vector<double>& g, double lr, double wd, const AdamWOptions& o) {
    ++t;
    for (size_t i = 0; i < p.size(); ++i) {
      p[i] *= 1 - lr * wd;
      m[i] = o.beta1 * m[i] + (1 - o.beta1) * g[i];
      v[i] = o.beta2 * v[i] + (1 - o.beta2) * g[i] * g[i];
      const double mhat = m[i] / (1 - std::pow(o.beta1, t));
      const double vhat = v[i] / (1 - std::pow(o.beta2, t));
      p[i] -= lr * mhat / (std::sqrt(vhat) + o.eps);
    }
  }
};

std::vector<double> ToVector(const at::Tensor& t) {
  auto c = t.to(at::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

TEST(AdamWTest, MatchesTheWrittenOutUpdateWithDecayOnMatricesOnly) {
  at::manual_seed(0);
  auto weight = at::randn({3, 4}).set_requires_grad(true);
  auto bias = at::randn({4}).set_requires_grad(true);
  AdamWOptions options;
  AdamW adamw({{"w", weight}, {"b", bias}}, options);
  ReferenceAdamW ref_w{ToVector(weight), std::vector<double>(12), std::vector<double>(12)};
  ReferenceAdamW ref_b{ToVector(bias), std::vector<double>(4), std::vector<double>(4)};
  for (int step = 0; step < 5; ++step) {
    const double lr = 0.01 * (step + 1);
    auto loss = (weight.sum(0) * bias).pow(2).sum();
    loss.backward();
    ref_w.Step(ToVector(weight.grad()), lr, options.weight_decay, options);
    ref_b.Step(ToVector(bias.grad()), lr, /*wd=*/0.0, options);
    adamw.Step(lr);
    EXPECT_FALSE(weight.grad().defined());
  }
  auto w = ToVector(weight), b = ToVector(bias);
  for (size_t i = 0; i < w.size(); ++i) EXPECT_NEAR(w[i], ref_w.p[i], 1e-5);
  for (size_t i = 0; i < b.size(); ++i) EXPECT_NEAR(b[i], ref_b.p[i], 1e-5);
  EXPECT_EQ(adamw.step(), 5);
}

TEST(AdamWTest, ClipsTheGlobalNorm) {
  auto a = at::zeros({2}).set_requires_grad(true);
  auto b = at::zeros({1}).set_requires_grad(true);
  (a * at::tensor({3.0f, 0.0f})).sum().add((b * 4.0).sum()).backward();  // grads (3, 0), (4)
  AdamW adamw({{"a", a}, {"b", b}}, {});
  EXPECT_NEAR(adamw.ClipGradNorm(1.0), 5.0, 1e-6);
  EXPECT_NEAR(a.grad()[0].item<double>(), 3.0 / 5.0, 1e-5);
  EXPECT_NEAR(b.grad()[0].item<double>(), 4.0 / 5.0, 1e-5);
}

// bf16 parameters follow fp32 masters: many tiny updates, each below bf16's resolution at 1.0,
// still add up.
TEST(AdamWTest, Bfloat16ParametersKeepFloat32Masters) {
  auto p = at::ones({4}, at::kBFloat16).set_requires_grad(true);
  AdamWOptions options;
  options.weight_decay = 0;
  AdamW adamw({{"p", p}}, options);
  for (int i = 0; i < 50; ++i) {
    p.mutable_grad() = at::ones({4}, at::kBFloat16);
    adamw.Step(1e-4);
  }
  auto master = adamw.State()["master/p"];
  EXPECT_EQ(master.scalar_type(), at::kFloat);
  EXPECT_NEAR(master[0].item<double>(), 1.0 - 50 * 1e-4, 1e-5);
  EXPECT_NEAR(p[0].item<double>(), 1.0 - 50 * 1e-4, 4e-3);  // bf16 rounding of the master
}

TEST(AdamWTest, RestoredStateContinuesIdentically) {
  auto make = []() { return at::linspace(-1, 1, 6).view({2, 3}).set_requires_grad(true); };
  auto run = [](at::Tensor& p, AdamW& adamw, int steps) {
    for (int i = 0; i < steps; ++i) {
      (p.pow(3).sum()).backward();
      adamw.Step(0.05);
    }
  };
  auto straight = make();
  AdamW a({{"p", straight}}, {});
  run(straight, a, 6);

  auto first = make();
  AdamW b({{"p", first}}, {});
  run(first, b, 3);
  auto state = b.State();
  auto second = at::zeros({2, 3}).set_requires_grad(true);
  AdamW c({{"p", second}}, {});
  ASSERT_TRUE(c.LoadState(state).ok());
  EXPECT_EQ(c.step(), 3);
  run(second, c, 3);
  EXPECT_TRUE(at::equal(second, straight));

  state.erase("exp_avg/p");
  EXPECT_FALSE(c.LoadState(state).ok());
}

}  // namespace
}  // namespace zett
