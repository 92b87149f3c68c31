// The pieces of a ZeTT training step that tests check on their own: predicting the sampled
// vocabulary's embeddings (special tokens keep the original rows) and the auxiliary loss.
#ifndef ZETT_CORE_TRAIN_ZETT_LOSS_H_
#define ZETT_CORE_TRAIN_ZETT_LOSS_H_

#include <ATen/ATen.h>

#include "absl/status/statusor.h"
#include "core/hypernet/hypernet.h"
#include "core/train/zett_batch.h"

namespace zett {

// Hypernet forward over batch.surface_forms ([V', L]) → embeddings_in / embeddings_out [V', d]
// on the hypernet's device, with the rows of batch.special_target_ids replaced by the original
// rows of `source_embeddings` ([V_orig, 2d] = [E_in | E_out], or [V_orig, d] when tied).
// Differentiable with respect to the hypernet's parameters.
absl::StatusOr<HypernetOutput> PredictTargetEmbeddings(const Hypernet& hypernet,
                                                       const ZettBatch& batch,
                                                       const at::Tensor& source_embeddings);

// references.md §2: over the rows m of batch.aux_target_ids (tokens whose decomposition has
// length 1, original id o_t):  Σ_t ‖ê_t − e[o_t]‖² / (|m| + 1e-8) / mean_t ‖e[o_t]‖, computed for
// the input and (when defined) output embeddings and averaged. A zero scalar when |m| = 0.
at::Tensor AuxiliaryLoss(const HypernetOutput& predicted, const ZettBatch& batch,
                         const at::Tensor& source_embeddings);

}  // namespace zett

#endif  // ZETT_CORE_TRAIN_ZETT_LOSS_H_
