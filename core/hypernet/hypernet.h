// The ZeTT hypernetwork (Minixhofer et al., NeurIPS 2024): given each target token's
// decomposition into ORIGINAL-tokenizer ids and the original model's embeddings, predicts the
// token's input embedding, output embedding (untied models) and LM-head bias.
//
// Checkpoint-compatible with zett's PyTorch port (hf_hypernet/modeling_hypernet.py): the state
// dict uses the same parameter names and shapes, so a published model.safetensors loads by name.
//
// Forward, per target token (row of the [V, L] surface-form matrix):
//   x_l   = input_projection(in_scaler(E_src[id_l]))          (fallback_embeddings for extra ids)
//   h     = RoBERTa encoder(LN(x_l + pos_l + type_0) [; LN(lang)]), mask = (id != pad)
//   E_in  = scaler(output_projection(h_0)),  E_out = out_scaler(output_projection_out(h_0))
//   bias  = bias_projection(h_0)
// With hn_residual: E = E_src[id_0] + alpha/sqrt(d) * head(h_0) and no output scalers.
//
// Only ATen types appear here, so users of this header compile without the torch frontend.
#ifndef ZETT_CORE_HYPERNET_HYPERNET_H_
#define ZETT_CORE_HYPERNET_HYPERNET_H_

#include <ATen/ATen.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/hypernet/config.h"

namespace zett {

struct HypernetOutput {
  at::Tensor embeddings_in;   // [V, d]
  at::Tensor embeddings_out;  // [V, d]; undefined when tied (separate_out_embeddings = false)
  at::Tensor bias;            // [V];    undefined unless hn_predict_bias
};

struct HypernetForwardOptions {
  // Rows per encoder call; bounds activation memory ([rows, L, I] floats in the FFN).
  int64_t chunk_rows = 16384;
  // Sort rows by decomposition length and run chunks of one length each, with no padding and,
  // unless a row has padding inside, no attention mask (so attention takes the fused kernels).
  // Exact: padding never reaches position 0, the one read out. false: chunks in row order, each
  // run up to its longest row with padding masked.
  bool group_by_length = true;
  // Grouped, a length group of fewer rows joins the next (longer) one instead of running as a
  // chunk of its own: launches, not FLOPs, are what small chunks cost (PredictTokens of 64
  // tokens would otherwise run up to L chunks).
  int64_t min_group_rows = 512;
  // > 0: each chunk's rows are padded (with copies of its first row, dropped afterwards) up to
  // BucketRows(rows, row_buckets_per_octave) (core/hypernet/row_buckets.h), so the encoder only
  // meets the shapes WarmUp runs. 0: chunks run at their exact row count.
  int64_t row_buckets_per_octave = 0;
};

// Parameter names that zett's PyTorch port has in its state dict but never reads (RoBERTa's word
// embeddings: inputs_embeds are always given). StateDict() writes them as zeros so the PyTorch
// port loads our checkpoints without missing keys; LoadStateDict() accepts and drops them.
bool IsUnusedHypernetKey(const std::string& name);

class Hypernet {
 public:
  // Parameters as for training from scratch: RoBERTa's init (N(0, 0.02) weights, zero biases,
  // unit LayerNorms), identity scalers (fit them with FitRescalers), and with hn_residual
  // zero-initialised last head layers. fp32 on the CPU, requires_grad off.
  static absl::StatusOr<Hypernet> Create(const ZettHypernetConfig& config, uint64_t seed = 0);

  // From tensors named as in the PyTorch port (any float dtype; converted to fp32 on the CPU).
  // Every expected key must be present with its shape; unexpected keys are an error.
  static absl::StatusOr<Hypernet> FromStateDict(const ZettHypernetConfig& config,
                                                const std::map<std::string, at::Tensor>& tensors);

  Hypernet(Hypernet&&) noexcept;
  Hypernet& operator=(Hypernet&&) noexcept;
  ~Hypernet();

  const ZettHypernetConfig& config() const;
  at::Device device() const;
  at::ScalarType dtype() const;

  // Moves every parameter (dtype: fp32 or bf16; fp16 also accepted). Keeps requires_grad.
  absl::Status To(at::Device device, at::ScalarType dtype);

  // surface_forms: integer [V, L'] (1 <= L' <= hn_surface_maxlen) of original-tokenizer ids,
  //   padded with pad_token_id; ids >= original_vocab_size index fallback_embeddings.
  // source_embeddings: [>= original_vocab_size, source_embedding_dim()] = [E_in | E_out] (untied)
  //   or E_in (tied), any float dtype and device.
  // lang_index: required iff hn_embed_lang_id.
  // Outputs are on device() in dtype(). Only the source rows that occur are projected, so
  // gradients flow to all trainable parameters when requires_grad is on.
  absl::StatusOr<HypernetOutput> Forward(const at::Tensor& surface_forms,
                                         const at::Tensor& source_embeddings,
                                         std::optional<int64_t> lang_index = std::nullopt,
                                         const HypernetForwardOptions& options = {}) const;

  // The training path: every row through the encoder at its full width (padding masked), the
  // whole source table projected, no data-dependent shapes and no host synchronisation, so a
  // step that calls it can be captured as one CUDA graph. The values Forward gives, up to
  // floating-point summation order. surface_forms: [V, L] long ids on device(), already valid
  // (no range checks: the caller decomposed them); not for multilingual hypernets.
  HypernetOutput ForwardStatic(const at::Tensor& surface_forms,
                               const at::Tensor& source_embeddings) const;
  // Mixed precision for training: the parameters (the fp32 masters an optimizer updates) are
  // cast to `compute_dtype` inside the graph, so the encoder's matmuls and elementwise work run
  // there and the gradients flow back to the masters in dtype(); the heads' outputs are cast
  // back to dtype() before the residual base (or the scalers) is added, so a one-piece token's
  // E_src row is not rounded. compute_dtype == dtype(): the call above.
  HypernetOutput ForwardStatic(const at::Tensor& surface_forms, const at::Tensor& source_embeddings,
                               at::ScalarType compute_dtype) const;
  // The same with the parameters already cast by the optimizer (FlatAdamW::CastParameters: one
  // kernel for all of them instead of one per parameter), by name, in `compute_dtype`; a
  // parameter missing from `cast_parameters` is cast here.
  HypernetOutput ForwardStatic(const at::Tensor& surface_forms, const at::Tensor& source_embeddings,
                               at::ScalarType compute_dtype,
                               const std::map<std::string, at::Tensor>& cast_parameters) const;

  // input_projection(in_scaler(E_src[i])) for i < original_vocab_size, followed by
  // input_projection(fallback_embeddings[j]) for every fallback row:
  // [original_vocab_size + fallback_rows, H]. Depends only on the model, so a server computes it
  // once and passes it to ForwardProjected for every request.
  absl::StatusOr<at::Tensor> ProjectSourceEmbeddings(const at::Tensor& source_embeddings) const;

  // Forward with a table from ProjectSourceEmbeddings. `source_embeddings` is only read by the
  // residual form (its E_src[id_0]); it may be undefined otherwise.
  absl::StatusOr<HypernetOutput> ForwardProjected(const at::Tensor& surface_forms,
                                                  const at::Tensor& projected_source_embeddings,
                                                  const at::Tensor& source_embeddings,
                                                  std::optional<int64_t> lang_index = std::nullopt,
                                                  const HypernetForwardOptions& options = {}) const;

  // Runs the encoder once on every chunk shape ForwardProjected can meet with these options and
  // at most max_rows rows per call: each row bucket up to min(max_rows, chunk_rows)
  // (FailedPrecondition when row_buckets_per_octave is 0), each length 1..hn_surface_maxlen,
  // with and without an attention mask; lang_index as for Forward. So that per-shape set-up
  // (attention plans, lazily loaded kernels) happens before a server serves, not in a request.
  absl::Status WarmUp(const at::Tensor& projected_source_embeddings, int64_t max_rows,
                      std::optional<int64_t> lang_index,
                      const HypernetForwardOptions& options) const;

  // (name, tensor) for every parameter, in the PyTorch port's names. The tensors share storage
  // with the module: an optimizer may update them in place.
  std::vector<std::pair<std::string, at::Tensor>> NamedParameters() const;
  // The trainable ones: all but the frozen scalers (in_scaler, scaler, out_scaler).
  std::vector<at::Tensor> TrainableParameters() const;
  // requires_grad on every trainable parameter; the scalers stay frozen.
  void SetRequiresGrad(bool requires_grad);

  // NamedParameters() plus the unused keys (IsUnusedHypernetKey) as zeros, on the CPU.
  std::map<std::string, at::Tensor> StateDict() const;

  // Overwrites one frozen scaler ("in_scaler", "scaler", "out_scaler") with w, b: [dim] or [1,
  // dim].
  absl::Status SetRescaler(const std::string& name, const at::Tensor& w, const at::Tensor& b);
  bool HasRescaler(const std::string& name) const;

 private:
  struct Impl;
  explicit Hypernet(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace zett

#endif  // ZETT_CORE_HYPERNET_HYPERNET_H_
