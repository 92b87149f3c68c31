#include "core/train/zett_loss.h"

namespace zett {
namespace {

// source rows of `ids` (-1 allowed: clamped, then masked by the caller) as fp32 [P, width].
at::Tensor SourceRows(const at::Tensor& source_embeddings, const at::Tensor& ids,
                      const at::TensorOptions& like) {
  return source_embeddings.index_select(0, ids.clamp_min(0).to(source_embeddings.device()))
      .to(like.dtype(at::kFloat).device(like.device()));
}

}  // namespace

HypernetOutput PredictRows(const Hypernet& hypernet, const at::Tensor& surface_forms,
                           const at::Tensor& row_source, const at::Tensor& source_embeddings,
                           at::ScalarType compute_dtype,
                           const std::map<std::string, at::Tensor>& cast_parameters) {
  HypernetOutput out =
      hypernet.ForwardStatic(surface_forms, source_embeddings, compute_dtype, cast_parameters);
  const int64_t d = out.embeddings_in.size(1);
  const at::Tensor keep = (row_source >= 0).unsqueeze(1);  // [P, 1]
  const at::Tensor rows = SourceRows(source_embeddings, row_source, out.embeddings_in.options())
                              .to(out.embeddings_in.scalar_type());
  out.embeddings_in = at::where(keep, rows.narrow(1, 0, d), out.embeddings_in);
  if (out.embeddings_out.defined() && rows.size(1) >= 2 * d) {
    out.embeddings_out = at::where(keep, rows.narrow(1, d, d), out.embeddings_out);
  }
  return out;
}

at::Tensor AuxiliaryLoss(const HypernetOutput& predicted, const at::Tensor& aux_source,
                         const at::Tensor& source_embeddings) {
  const int64_t d = predicted.embeddings_in.size(1);
  const at::Tensor mask = (aux_source >= 0).to(predicted.embeddings_in.options().dtype(at::kFloat));
  const at::Tensor count = mask.sum();
  const at::Tensor originals =
      SourceRows(source_embeddings, aux_source, predicted.embeddings_in.options());
  auto one = [&](const at::Tensor& prediction, int64_t offset) {
    const at::Tensor original = originals.narrow(1, offset, d);  // [P, d]
    const at::Tensor squared = (prediction.to(at::kFloat) - original).pow(2).sum(1);
    const at::Tensor mean_norm = (original.norm(2, {1}) * mask).sum() / count.clamp_min(1.0);
    // With no qualifying row the numerator is 0; a unit denominator keeps it 0, not NaN.
    return (squared * mask).sum() / (count + 1e-8) /
           at::where(count > 0, mean_norm, at::ones_like(mean_norm));
  };
  at::Tensor loss = one(predicted.embeddings_in, 0);
  if (predicted.embeddings_out.defined() && originals.size(1) >= 2 * d) {
    loss = (loss + one(predicted.embeddings_out, d)) / 2;
  }
  return loss;
}

}  // namespace zett
