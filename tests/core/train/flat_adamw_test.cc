#include "core/train/flat_adamw.h"

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

TEST(FlatAdamWTest, MatchesTheWrittenOutUpdateWithDecayOnMatricesOnly) {
  at::manual_seed(0);
  auto weight = at::randn({3, 4}).set_requires_grad(true);
  auto bias = at::randn({4}).set_requires_grad(true);
  AdamWOptions options;
  FlatAdamW adamw({{"w", weight}, {"b", bias}}, options);
  ReferenceAdamW ref_w{ToVector(weight), std::vector<double>(12), std::vector<double>(12)};
  ReferenceAdamW ref_b{ToVector(bias), std::vector<double>(4), std::vector<double>(4)};
  for (int step = 0; step < 5; ++step) {
    const double lr = 0.01 * (step + 1);
    auto loss = (weight.sum(0) * bias).pow(2).sum();
    loss.backward();
    ref_w.Step(ToVector(weight.grad()), lr, options.weight_decay, options);
    ref_b.Step(ToVector(bias.grad()), lr, /*wd=*/0.0, options);
    adamw.Step(lr);
    adamw.ZeroGrad();
    EXPECT_EQ(weight.grad().abs().sum().item<double>(), 0.0);
  }
  auto w = ToVector(weight), b = ToVector(bias);
  for (size_t i = 0; i < w.size(); ++i) EXPECT_NEAR(w[i], ref_w.p[i], 1e-5);
  for (size_t i = 0; i < b.size(); ++i) EXPECT_NEAR(b[i], ref_b.p[i], 1e-5);
  EXPECT_EQ(adamw.step(), 5);
}

TEST(FlatAdamWTest, ClipsTheGlobalNorm) {
  auto a = at::zeros({2});
  auto b = at::zeros({1});
  FlatAdamW adamw({{"a", a}, {"b", b}}, {});
  (a * at::tensor({3.0f, 0.0f})).sum().add((b * 4.0).sum()).backward();  // grads (3, 0), (4)
  EXPECT_NEAR(adamw.ClipGradNorm(1.0).item<double>(), 5.0, 1e-6);
  EXPECT_NEAR(adamw.flat_gradients().norm().item<double>(), 1.0, 1e-5);
  EXPECT_NEAR(a.grad()[0].item<double>(), 3.0 / 5.0, 1e-5);
  EXPECT_NEAR(b.grad()[0].item<double>(), 4.0 / 5.0, 1e-5);
}

// bf16 parameters follow fp32 masters: many tiny updates, each below bf16's resolution at 1.0,
// still add up.
TEST(FlatAdamWTest, Bfloat16ParametersKeepFloat32Masters) {
  auto p = at::ones({4}, at::kBFloat16);
  AdamWOptions options;
  options.weight_decay = 0;
  FlatAdamW adamw({{"p", p}}, options);
  for (int i = 0; i < 50; ++i) {
    p.sum().backward();  // gradient 1 per element
    adamw.Step(1e-4);
    adamw.ZeroGrad();
  }
  auto master = adamw.State()["master/p"];
  EXPECT_EQ(master.scalar_type(), at::kFloat);
  EXPECT_NEAR(master[0].item<double>(), 1.0 - 50 * 1e-4, 1e-5);
  EXPECT_NEAR(p[0].item<double>(), 1.0 - 50 * 1e-4, 4e-3);  // bf16 rounding of the master
}

TEST(FlatAdamWTest, RestoredStateContinuesIdentically) {
  auto make = []() { return at::linspace(-1, 1, 6).view({2, 3}).clone(); };
  auto run = [](at::Tensor& p, FlatAdamW& adamw, int steps) {
    for (int i = 0; i < steps; ++i) {
      (p.pow(3).sum()).backward();
      adamw.Step(0.05);
      adamw.ZeroGrad();
    }
  };
  auto straight = make();
  FlatAdamW a({{"p", straight}}, {});
  run(straight, a, 6);

  auto first = make();
  FlatAdamW b({{"p", first}}, {});
  run(first, b, 3);
  auto state = b.State();
  auto second = at::zeros({2, 3});
  FlatAdamW c({{"p", second}}, {});
  ASSERT_TRUE(c.LoadState(state).ok());
  EXPECT_EQ(c.step(), 3);
  run(second, c, 3);
  EXPECT_TRUE(at::equal(second, straight));

  state.erase("exp_avg/p");
  EXPECT_FALSE(c.LoadState(state).ok());
}

// Parameters become slices of one buffer: every handle to them sees updates, and autograd
// accumulates straight into the flat gradient, also over several backward passes.
TEST(FlatAdamWTest, ParametersAndGradientsAreSlicesOfOneBuffer) {
  auto a = at::ones({2, 2});
  auto b = at::ones({3});
  at::Tensor other_handle = a;
  FlatAdamW adamw({{"a", a}, {"b", b}}, {});
  EXPECT_EQ(adamw.numel(), 7);
  (a.sum() + 2 * b.sum()).backward();
  (a.sum()).backward();
  const at::Tensor g = adamw.flat_gradients();
  EXPECT_TRUE(at::equal(g, at::tensor({2.f, 2.f, 2.f, 2.f, 2.f, 2.f, 2.f})));
  adamw.Step(0.1);
  EXPECT_LT(other_handle[0][0].item<double>(), 1.0);
  EXPECT_TRUE(at::equal(other_handle, a));
}

// The one-kernel cast gives each parameter's bf16 values and sends the gradient of every view
// to the flat buffer: the same numbers as casting the parameters one by one.
TEST(FlatAdamWTest, CastParametersMatchesCastingEachParameter) {
  at::manual_seed(11);
  at::Tensor a = at::randn({3, 5}), b = at::randn({7});
  const at::Tensor weight_a = at::randn({3, 5}), weight_b = at::randn({7});
  auto loss_of = [&](const at::Tensor& ca, const at::Tensor& cb) {
    return (ca.to(at::kFloat) * weight_a).pow(2).sum() + (cb.to(at::kFloat) * weight_b).sum();
  };
  // Per-parameter casts, on copies of the same values.
  const at::Tensor a_ref = a.clone().requires_grad_(true), b_ref = b.clone().requires_grad_(true);
  loss_of(a_ref.to(at::kBFloat16), b_ref.to(at::kBFloat16)).backward();

  FlatAdamW opt({{"a", a}, {"b", b}}, AdamWOptions());
  const std::map<std::string, at::Tensor> cast = opt.CastParameters(at::kBFloat16);
  ASSERT_EQ(cast.size(), 2u);
  EXPECT_EQ(cast.at("a").scalar_type(), at::kBFloat16);
  EXPECT_TRUE(at::equal(cast.at("a"), a_ref.to(at::kBFloat16)));
  EXPECT_TRUE(at::equal(cast.at("b"), b_ref.to(at::kBFloat16)));
  loss_of(cast.at("a"), cast.at("b")).backward();
  const at::Tensor expected = at::cat({a_ref.grad().reshape({-1}), b_ref.grad()});
  EXPECT_TRUE(at::equal(opt.flat_gradients(), expected));
  EXPECT_TRUE(at::equal(a.grad(), a_ref.grad()));  // the parameters' .grad views see it

  // A second step after ZeroGrad accumulates from zero again.
  opt.ZeroGrad();
  loss_of(opt.CastParameters(at::kBFloat16).at("a"), cast.at("b").detach()).backward();
  EXPECT_TRUE(at::equal(opt.flat_gradients().narrow(0, 0, 15), a_ref.grad().reshape({-1})));
  EXPECT_EQ(opt.flat_gradients().narrow(0, 15, 7).abs().max().item<float>(), 0.0f);
}

}  // namespace
}  // namespace zett
