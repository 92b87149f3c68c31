#include "core/train/adamw.h"

#include <c10/core/GradMode.h>

#include <cmath>

#include "absl/strings/str_cat.h"

namespace zett {

AdamW::AdamW(std::vector<std::pair<std::string, at::Tensor>> params, AdamWOptions options)
    : options_(options) {
  c10::NoGradGuard no_grad;
  for (auto& [name, param] : params) {
    Slot slot;
    slot.name = name;
    slot.param = param;
    slot.master = param.scalar_type() == at::kFloat ? param : param.detach().to(at::kFloat).clone();
    slot.exp_avg = at::zeros_like(slot.master);
    slot.exp_avg_sq = at::zeros_like(slot.master);
    slot.decay = param.dim() >= 2;
    slots_.push_back(std::move(slot));
  }
}

double AdamW::ClipGradNorm(double max_norm) {
  c10::NoGradGuard no_grad;
  at::Tensor total;
  for (const Slot& s : slots_) {
    if (!s.param.grad().defined()) continue;
    auto sq = s.param.grad().to(at::kFloat).pow(2).sum();
    total = total.defined() ? total + sq : sq;
  }
  if (!total.defined()) return 0.0;
  const double norm = std::sqrt(total.item<double>());
  if (max_norm > 0 && norm > max_norm) {
    const double scale = max_norm / (norm + 1e-6);
    for (Slot& s : slots_) {
      if (s.param.grad().defined()) s.param.grad().mul_(scale);
    }
  }
  return norm;
}

void AdamW::Step(double lr) {
  c10::NoGradGuard no_grad;
  ++step_;
  const double bias1 = 1.0 - std::pow(options_.beta1, static_cast<double>(step_));
  const double bias2 = 1.0 - std::pow(options_.beta2, static_cast<double>(step_));
  for (Slot& s : slots_) {
    if (!s.param.grad().defined()) continue;
    at::Tensor grad = s.param.grad().to(at::kFloat);
    if (s.decay && options_.weight_decay > 0) s.master.mul_(1.0 - lr * options_.weight_decay);
    s.exp_avg.mul_(options_.beta1).add_(grad, 1.0 - options_.beta1);
    s.exp_avg_sq.mul_(options_.beta2).addcmul_(grad, grad, 1.0 - options_.beta2);
    auto denom = (s.exp_avg_sq / bias2).sqrt_().add_(options_.eps);
    s.master.addcdiv_(s.exp_avg, denom, -lr / bias1);
    if (!s.master.is_same(s.param)) s.param.copy_(s.master);
    s.param.mutable_grad() = at::Tensor();
  }
}

std::map<std::string, at::Tensor> AdamW::State() const {
  std::map<std::string, at::Tensor> state;
  for (const Slot& s : slots_) {
    state["master/" + s.name] = s.master.detach().cpu().clone();
    state["exp_avg/" + s.name] = s.exp_avg.cpu().clone();
    state["exp_avg_sq/" + s.name] = s.exp_avg_sq.cpu().clone();
  }
  state["step"] = at::full({1}, step_, at::kLong);
  return state;
}

absl::Status AdamW::LoadState(const std::map<std::string, at::Tensor>& state) {
  auto get = [&state](const std::string& key,
                      const at::Tensor& like) -> absl::StatusOr<at::Tensor> {
    auto it = state.find(key);
    if (it == state.end()) return absl::InvalidArgumentError("optimizer state lacks " + key);
    if (!it->second.sizes().equals(like.sizes())) {
      return absl::InvalidArgumentError("optimizer state " + key + " has the wrong shape");
    }
    return it->second;
  };
  auto step = state.find("step");
  if (step == state.end() || step->second.numel() != 1) {
    return absl::InvalidArgumentError("optimizer state lacks step");
  }
  c10::NoGradGuard no_grad;
  for (Slot& s : slots_) {
    for (auto [key, target] : {std::pair<std::string, at::Tensor*>{"master/", &s.master},
                               {"exp_avg/", &s.exp_avg},
                               {"exp_avg_sq/", &s.exp_avg_sq}}) {
      auto value = get(key + s.name, *target);
      if (!value.ok()) return value.status();
      target->copy_(value->to(at::kFloat));
    }
    if (!s.master.is_same(s.param)) s.param.copy_(s.master);
  }
  step_ = step->second.to(at::kLong).item<int64_t>();
  return absl::OkStatus();
}

}  // namespace zett
