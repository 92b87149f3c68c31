#include "core/train/flat_adamw.h"

#include <c10/core/GradMode.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cmath>

#include "absl/strings/str_cat.h"

namespace zett {
namespace {

// flat.to(dtype), whose gradient is added to `sink` (flat's gradient buffer) instead of flowing
// to a leaf: `anchor`, an empty leaf, only makes autograd run this node's backward.
class CastFlat : public torch::autograd::Function<CastFlat> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& anchor,
                            const at::Tensor& flat, const at::Tensor& sink, int64_t dtype) {
    ctx->saved_data["sink"] = sink;
    return flat.to(static_cast<at::ScalarType>(dtype));
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    ctx->saved_data["sink"].toTensor().add_(grads[0]);
    return {at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

FlatAdamW::FlatAdamW(std::vector<std::pair<std::string, at::Tensor>> params, AdamWOptions options)
    : options_(options) {
  c10::NoGradGuard no_grad;
  int64_t total = 0;
  for (auto& [name, param] : params) {
    slots_.push_back({name, param, total, param.numel()});
    total += param.numel();
  }
  const at::TensorOptions like =
      params.empty() ? at::TensorOptions().dtype(at::kFloat) : params.front().second.options();
  const at::TensorOptions fp32 = like.dtype(at::kFloat).requires_grad(false);
  master_ = at::empty({total}, fp32);
  flat_param_ =
      like.dtype() == at::kFloat ? master_ : at::empty({total}, like.requires_grad(false));
  flat_grad_ = at::zeros({total}, like.requires_grad(false));
  exp_avg_ = at::zeros({total}, fp32);
  exp_avg_sq_ = at::zeros({total}, fp32);
  decay_ = at::zeros({total}, fp32);
  step_ = at::zeros({}, fp32);
  lr_ = at::zeros({}, fp32);
  for (Slot& s : slots_) {
    at::Tensor values = s.param.detach().reshape({-1});
    master_.narrow(0, s.offset, s.numel).copy_(values);
    if (!flat_param_.is_same(master_)) flat_param_.narrow(0, s.offset, s.numel).copy_(values);
    if (s.param.dim() >= 2) decay_.narrow(0, s.offset, s.numel).fill_(1.0);
    // Every handle to this parameter now reads and writes its slice of the flat buffer.
    s.param.set_(flat_param_.storage(), flat_param_.storage_offset() + s.offset, s.param.sizes(),
                 at::detail::defaultStrides(s.param.sizes()));
    s.param.requires_grad_(true);
  }
  cast_anchor_ = at::zeros({0}, fp32).requires_grad_(true);
  ZeroGrad();
}

std::map<std::string, at::Tensor> FlatAdamW::CastParameters(at::ScalarType dtype) const {
  const at::Tensor cast =
      CastFlat::apply(cast_anchor_, flat_param_, flat_grad_, static_cast<int64_t>(dtype));
  std::vector<int64_t> sizes;
  for (const Slot& s : slots_) sizes.push_back(s.numel);
  // One split (its backward is one cat), not a narrow per slot (each a full-size zero fill).
  const std::vector<at::Tensor> pieces = at::split_with_sizes(cast, sizes);
  std::map<std::string, at::Tensor> out;
  for (size_t i = 0; i < slots_.size(); ++i) {
    out[slots_[i].name] = pieces[i].view(slots_[i].param.sizes());
  }
  return out;
}

void FlatAdamW::ZeroGrad() {
  c10::NoGradGuard no_grad;
  flat_grad_.zero_();
  for (Slot& s : slots_) {
    s.param.mutable_grad() = flat_grad_.narrow(0, s.offset, s.numel).view(s.param.sizes());
  }
}

at::Tensor FlatAdamW::ClipGradNorm(double max_norm) {
  c10::NoGradGuard no_grad;
  at::Tensor norm = flat_grad_.to(at::kFloat).norm();
  if (max_norm > 0) {
    flat_grad_.mul_(at::clamp_max(max_norm / (norm + 1e-6), 1.0).to(flat_grad_.scalar_type()));
  }
  return norm;
}

void FlatAdamW::Step(const at::Tensor& lr) {
  c10::NoGradGuard no_grad;
  const double b1 = options_.beta1, b2 = options_.beta2;
  at::Tensor grad = flat_grad_.to(at::kFloat);
  step_.add_(1.0);
  if (options_.weight_decay > 0) {
    master_.mul_(1.0 - decay_ * (lr * options_.weight_decay));
  }
  exp_avg_.mul_(b1).add_(grad, 1.0 - b1);
  exp_avg_sq_.mul_(b2).addcmul_(grad, grad, 1.0 - b2);
  const at::Tensor bias1 = 1.0 - at::pow(b1, step_);
  const at::Tensor bias2 = 1.0 - at::pow(b2, step_);
  const at::Tensor denom = (exp_avg_sq_ / bias2).sqrt_().add_(options_.eps);
  master_.sub_(exp_avg_ / denom * (lr / bias1));
  if (!flat_param_.is_same(master_)) flat_param_.copy_(master_);
}

void FlatAdamW::Step(double lr) {
  lr_.fill_(lr);
  Step(lr_);
}

int64_t FlatAdamW::step() const { return std::llround(step_.item<double>()); }

void FlatAdamW::CopyMastersToParams() {
  c10::NoGradGuard no_grad;
  if (!flat_param_.is_same(master_)) flat_param_.copy_(master_);
}

std::map<std::string, at::Tensor> FlatAdamW::State() const {
  std::map<std::string, at::Tensor> state;
  for (const Slot& s : slots_) {
    auto slice = [&](const at::Tensor& flat) {
      return flat.narrow(0, s.offset, s.numel).view(s.param.sizes()).cpu().clone();
    };
    state["master/" + s.name] = slice(master_);
    state["exp_avg/" + s.name] = slice(exp_avg_);
    state["exp_avg_sq/" + s.name] = slice(exp_avg_sq_);
  }
  state["step"] = at::full({1}, step(), at::kLong);
  return state;
}

absl::Status FlatAdamW::LoadState(const std::map<std::string, at::Tensor>& state) {
  auto step = state.find("step");
  if (step == state.end() || step->second.numel() != 1) {
    return absl::InvalidArgumentError("optimizer state lacks step");
  }
  c10::NoGradGuard no_grad;
  for (const Slot& s : slots_) {
    for (auto [key, flat] : {std::pair<std::string, at::Tensor*>{"master/", &master_},
                             {"exp_avg/", &exp_avg_},
                             {"exp_avg_sq/", &exp_avg_sq_}}) {
      auto it = state.find(key + s.name);
      if (it == state.end())
        return absl::InvalidArgumentError("optimizer state lacks " + key + s.name);
      if (it->second.numel() != s.numel) {
        return absl::InvalidArgumentError(absl::StrCat("optimizer state ", key, s.name, " has ",
                                                       it->second.numel(),
                                                       " values, the parameter ", s.numel));
      }
      flat->narrow(0, s.offset, s.numel).copy_(it->second.reshape({-1}).to(at::kFloat));
    }
  }
  step_.fill_(static_cast<double>(step->second.to(at::kLong).item<int64_t>()));
  CopyMastersToParams();
  return absl::OkStatus();
}

}  // namespace zett
