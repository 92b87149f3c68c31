// Fitting the frozen scalers of a hypernetwork trained from scratch (zett's
// Hypernet.init_rescaler with Rescaler.scale_to): they are set once at init, never trained.
#ifndef ZETT_CORE_HYPERNET_RESCALER_FIT_H_
#define ZETT_CORE_HYPERNET_RESCALER_FIT_H_

#include <ATen/ATen.h>

#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "core/hypernet/hypernet.h"

namespace zett {

// Per-dimension affine (w, b), each [dim], with w * x + b having the target mean and std over
// the rows of x: w = target_std / (std(x) + 1e-8), b = target_mean - mean(w * x). std is the
// population std (ddof 0), as numpy's. x: [N, dim]; targets: [dim].
std::pair<at::Tensor, at::Tensor> FitAffine(const at::Tensor& x, const at::Tensor& target_mean,
                                            const at::Tensor& target_std);

// in_scaler: source rows [0, original_vocab_size) to mean 0 and std initializer_range (0.02)
// per dimension. Then scaler / out_scaler: the hypernet's predictions for `surface_forms` (zett
// uses a sample of 2048 original tokens' decompositions) to the per-dimension mean and std of
// `target_in` / `target_out` ([N, d], the original embeddings; target_out undefined when tied).
// A no-op for configs without hn_rescale_embeddings; with hn_residual only in_scaler exists.
absl::Status FitRescalers(Hypernet& hypernet, const at::Tensor& source_embeddings,
                          const at::Tensor& surface_forms, const at::Tensor& target_in,
                          const at::Tensor& target_out,
                          std::optional<int64_t> lang_index = std::nullopt);

}  // namespace zett

#endif  // ZETT_CORE_HYPERNET_RESCALER_FIT_H_
