#include "core/train/zett_loss.h"

#include "absl/strings/str_cat.h"
#include "core/hypernet/special_tokens.h"
#include "core/util/status_macros.h"

namespace zett {

absl::StatusOr<HypernetOutput> PredictTargetEmbeddings(const Hypernet& hypernet,
                                                       const ZettBatch& batch,
                                                       const at::Tensor& source_embeddings) {
  ASSIGN_OR_RETURN(HypernetOutput out,
                   hypernet.Forward(batch.surface_forms.to(hypernet.device()), source_embeddings));
  if (!batch.special_target_ids.empty()) {
    RETURN_IF_ERROR(OverwriteSpecialTokenRows(out, batch.special_target_ids,
                                              batch.special_source_ids, source_embeddings));
  }
  return out;
}

at::Tensor AuxiliaryLoss(const HypernetOutput& predicted, const ZettBatch& batch,
                         const at::Tensor& source_embeddings) {
  const at::Device device = predicted.embeddings_in.device();
  const int64_t n = batch.aux_target_ids.defined() ? batch.aux_target_ids.numel() : 0;
  if (n == 0) return at::zeros({}, predicted.embeddings_in.options().dtype(at::kFloat));
  const at::Tensor targets = batch.aux_target_ids.to(device);
  const at::Tensor sources = batch.aux_source_ids.to(device);
  const int64_t d = predicted.embeddings_in.size(1);
  const at::Tensor originals = source_embeddings.to(device).index_select(0, sources).to(at::kFloat);
  auto one = [&](const at::Tensor& prediction, int64_t offset) {
    const at::Tensor original = originals.narrow(1, offset, d);  // [n, d]
    const at::Tensor predicted_rows = prediction.index_select(0, targets).to(at::kFloat);
    const at::Tensor squared = (predicted_rows - original).pow(2).sum(1);  // [n]
    return squared.sum() / (static_cast<double>(n) + 1e-8) / original.norm(2, {1}).mean();
  };
  at::Tensor loss = one(predicted.embeddings_in, 0);
  if (predicted.embeddings_out.defined() && originals.size(1) >= 2 * d) {
    loss = (loss + one(predicted.embeddings_out, d)) / 2;
  }
  return loss;
}

}  // namespace zett
