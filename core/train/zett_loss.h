// The pieces of a ZeTT training step that tests check on their own: predicting the sampled
// vocabulary's embeddings (special tokens keep the original rows) and the auxiliary loss. Both
// take per-row tensors of a fixed size, so a step built from them has static shapes.
#ifndef ZETT_CORE_TRAIN_ZETT_LOSS_H_
#define ZETT_CORE_TRAIN_ZETT_LOSS_H_

#include <ATen/ATen.h>

#include <map>
#include <string>

#include "core/hypernet/hypernet.h"

namespace zett {

// Hypernet::ForwardStatic over `surface_forms` ([P, L] long) → embeddings_in / embeddings_out
// [P, d] on the hypernet's device; rows with row_source[r] >= 0 ([P] long) become the original
// row row_source[r] of `source_embeddings` ([V_orig, 2d] = [E_in | E_out], or [V_orig, d] when
// tied). Differentiable with respect to the hypernet's parameters, which are cast to
// `compute_dtype` for the forward (Hypernet::ForwardStatic; those in `cast_parameters` come
// cast already); the rows are in the hypernet's dtype.
HypernetOutput PredictRows(const Hypernet& hypernet, const at::Tensor& surface_forms,
                           const at::Tensor& row_source, const at::Tensor& source_embeddings,
                           at::ScalarType compute_dtype,
                           const std::map<std::string, at::Tensor>& cast_parameters = {});

// zett's auxiliary loss (docs/training.md, "What one step does"), over the rows r with
// aux_source[r] >= 0 ([P] long: the original id of a token whose decomposition has length 1): Σ_r
// ‖ê_r − e[o_r]‖² / (|m| + 1e-8) / mean_r ‖e[o_r]‖, for the input and (when defined) output
// embeddings, averaged. Zero when no row qualifies.
at::Tensor AuxiliaryLoss(const HypernetOutput& predicted, const at::Tensor& aux_source,
                         const at::Tensor& source_embeddings);

}  // namespace zett

#endif  // ZETT_CORE_TRAIN_ZETT_LOSS_H_
