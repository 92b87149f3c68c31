#include "core/hypernet/rescaler_fit.h"

#include <c10/core/GradMode.h>

#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"

namespace zett {
namespace {

constexpr double kStdEpsilon = 1e-8;  // zett's EPSILON

// Per-column std with ddof 0 (numpy's default, which zett uses). x: [N, dim] -> [dim].
at::Tensor PopulationStd(const at::Tensor& x) { return (x - x.mean(0)).pow(2).mean(0).sqrt(); }

// Identity w, b for a scaler of `dim`, so predictions are read before any rescaling.
absl::Status ResetToIdentity(Hypernet& hypernet, const std::string& name, int64_t dim) {
  return hypernet.SetRescaler(name, at::ones({dim}), at::zeros({dim}));
}

}  // namespace

std::pair<at::Tensor, at::Tensor> FitAffine(const at::Tensor& x, const at::Tensor& target_mean,
                                            const at::Tensor& target_std) {
  at::Tensor x64 = x.to(at::kDouble);
  at::Tensor w = target_std.to(x64.options()) / (PopulationStd(x64) + kStdEpsilon);
  at::Tensor b = target_mean.to(x64.options()) - (x64 * w).mean(0);
  return {w.to(at::kFloat), b.to(at::kFloat)};
}

absl::Status FitRescalers(Hypernet& hypernet, const at::Tensor& source_embeddings,
                          const at::Tensor& surface_forms, const at::Tensor& target_in,
                          const at::Tensor& target_out, std::optional<int64_t> lang_index) {
  const ZettHypernetConfig& c = hypernet.config();
  if (!c.hn_rescale_embeddings) return absl::OkStatus();
  c10::NoGradGuard no_grad;
  try {
    at::Tensor source = source_embeddings.slice(0, 0, c.original_vocab_size);
    const int64_t n_in = c.source_embedding_dim();
    auto [w_in, b_in] =
        FitAffine(source, at::zeros({n_in}),
                  at::full({n_in}, RobertaBaseConstants::kInitializerRange, at::kDouble));
    RETURN_IF_ERROR(hypernet.SetRescaler("in_scaler", w_in, b_in));
    if (!hypernet.HasRescaler("scaler")) return absl::OkStatus();

    if (!target_in.defined() || target_in.dim() != 2 || target_in.size(1) != c.n_embd) {
      return absl::InvalidArgumentError(
          absl::StrCat("FitRescalers: target_in must be [N, ", c.n_embd, "]"));
    }
    if (hypernet.HasRescaler("out_scaler") &&
        (!target_out.defined() || target_out.sizes() != target_in.sizes())) {
      return absl::InvalidArgumentError(
          "FitRescalers: untied hypernet: target_out must be given, shaped like target_in");
    }
    RETURN_IF_ERROR(ResetToIdentity(hypernet, "scaler", c.n_embd));
    if (hypernet.HasRescaler("out_scaler")) {
      RETURN_IF_ERROR(ResetToIdentity(hypernet, "out_scaler", c.n_embd));
    }
    ASSIGN_OR_RETURN(HypernetOutput predicted,
                     hypernet.Forward(surface_forms, source_embeddings, lang_index));
    auto fit = [&](const std::string& name, const at::Tensor& prediction,
                   const at::Tensor& target) {
      at::Tensor t = target.to(at::kCPU, at::kDouble);
      auto [w, b] = FitAffine(prediction.to(at::kCPU), t.mean(0), PopulationStd(t));
      return hypernet.SetRescaler(name, w, b);
    };
    RETURN_IF_ERROR(fit("scaler", predicted.embeddings_in, target_in));
    if (hypernet.HasRescaler("out_scaler")) {
      RETURN_IF_ERROR(fit("out_scaler", predicted.embeddings_out, target_out));
    }
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("FitRescalers failed: ", e.what()));
  }
  return absl::OkStatus();
}

}  // namespace zett
