#include "core/train/zett_step.h"

#include <c10/core/GradMode.h>

#include "absl/strings/str_cat.h"
#include "core/train/zett_loss.h"

namespace zett {

DeviceBatch ToDevice(const ZettBatch& batch, at::Device device) {
  DeviceBatch d;
  if (batch.input_ids.defined()) d.input_ids = batch.input_ids.to(device);
  if (batch.labels.defined()) d.labels = batch.labels.to(device);
  d.surface_forms = batch.surface_forms.to(device, at::kLong);
  d.row_source = batch.row_source.to(device);
  d.aux_source = batch.aux_source.to(device);
  d.vocab_bias = batch.vocab_bias.to(device);
  return d;
}

ZettLosses ComputeLosses(const Hypernet& hypernet, PretrainedBackbone& backbone,
                         const at::Tensor& source_embeddings, const DeviceBatch& batch,
                         const StepPrecision& precision, bool mimick,
                         const std::map<std::string, at::Tensor>& cast_parameters) {
  const HypernetOutput out = PredictRows(hypernet, batch.surface_forms, batch.row_source,
                                         source_embeddings, precision.hypernet, cast_parameters);
  const at::ScalarType backbone_dtype = precision.backbone;
  ZettLosses losses;
  losses.aux = AuxiliaryLoss(out, batch.aux_source, source_embeddings);
  if (mimick) {
    losses.lm_nats = at::zeros({}, losses.aux.options());
    return losses;
  }
  DecoderInputs in;
  in.input_ids = batch.input_ids;
  in.input_embeddings = out.embeddings_in.to(backbone_dtype);  // [P, d]
  in.lm_head_weight =
      (out.embeddings_out.defined() ? out.embeddings_out : out.embeddings_in).to(backbone_dtype);
  in.lm_head_bias = batch.vocab_bias.to(backbone_dtype);  // padding rows: never predicted
  // Right padding under causal attention never reaches a real position: no attention mask,
  // so the fused causal kernels run.
  const at::Tensor logits = backbone.decoder(in);  // [B, T, P]
  losses.lm_nats = CrossEntropySum(logits.reshape({-1, logits.size(-1)}),
                                   batch.labels.reshape({-1}), -100, precision.cross_entropy);
  return losses;
}

ZettStep::ZettStep(const Hypernet& hypernet, PretrainedBackbone& backbone,
                   at::Tensor source_embeddings, FlatAdamW& optimizer,
                   const ZettStepOptions& options, const ZettBatchOptions& shape,
                   int64_t batch_size, at::Device device)
    : hypernet_(hypernet),
      backbone_(backbone),
      source_(std::move(source_embeddings)),
      optimizer_(optimizer),
      options_(options),
      device_(device),
      staging_(device) {
  const at::TensorOptions on_device = at::TensorOptions().device(device);
  const int64_t B = batch_size, T = shape.seq_len, P = shape.vocab_rows, L = shape.max_len;
  inputs_.input_ids = at::zeros({B, T}, on_device.dtype(at::kLong));
  inputs_.labels = at::full({B, T}, -100, on_device.dtype(at::kLong));
  inputs_.surface_forms = at::zeros({P, L}, on_device.dtype(at::kLong));
  inputs_.row_source = at::full({P}, -1, on_device.dtype(at::kLong));
  inputs_.aux_source = at::full({P}, -1, on_device.dtype(at::kLong));
  inputs_.vocab_bias = at::zeros({P}, on_device.dtype(at::kFloat));
  for (auto [device_tensor, host] :
       {std::pair<at::Tensor*, at::Tensor*>{&inputs_.input_ids, &host_.input_ids},
        {&inputs_.labels, &host_.labels},
        {&inputs_.surface_forms, &host_.surface_forms},
        {&inputs_.row_source, &host_.row_source},
        {&inputs_.aux_source, &host_.aux_source},
        {&inputs_.vocab_bias, &host_.vocab_bias}}) {
    *host = staging_.Like(*device_tensor);
  }
  count_ = at::ones({}, on_device.dtype(at::kFloat));
  lm_sum_ = at::zeros({}, on_device.dtype(at::kFloat));
  aux_sum_ = at::zeros({}, on_device.dtype(at::kFloat));
  norm_sum_ = at::zeros({}, on_device.dtype(at::kFloat));
  gradient_pass_ =
      std::make_unique<CapturedWork>([this] { GradientPass(); }, device, 3, options.cuda_graph);
  update_pass_ =
      std::make_unique<CapturedWork>([this] { UpdatePass(); }, device, 3, options.cuda_graph);
}

ZettStep::~ZettStep() = default;

void ZettStep::SetTokenCount(int64_t tokens) {
  count_.fill_(static_cast<double>(std::max<int64_t>(1, tokens)));
}

absl::Status ZettStep::Load(const ZettBatch& batch) {
  if (!batch.input_ids.sizes().equals(host_.input_ids.sizes()) ||
      !batch.surface_forms.sizes().equals(host_.surface_forms.sizes())) {
    return absl::InvalidArgumentError(
        absl::StrCat("training step: batch of shape [", batch.input_ids.size(0), ", ",
                     batch.input_ids.size(1), "] with a [", batch.surface_forms.size(0), ", ",
                     batch.surface_forms.size(1), "] vocabulary; the step was built for [",
                     host_.input_ids.size(0), ", ", host_.input_ids.size(1), "] and [",
                     host_.surface_forms.size(0), ", ", host_.surface_forms.size(1), "]"));
  }
  staging_.WaitForPreviousCopies();
  host_.input_ids.copy_(batch.input_ids);
  host_.labels.copy_(batch.labels);
  host_.surface_forms.copy_(batch.surface_forms);
  host_.row_source.copy_(batch.row_source);
  host_.aux_source.copy_(batch.aux_source);
  host_.vocab_bias.copy_(batch.vocab_bias);
  staging_.CopyToDevice({{host_.input_ids, inputs_.input_ids},
                         {host_.labels, inputs_.labels},
                         {host_.surface_forms, inputs_.surface_forms},
                         {host_.row_source, inputs_.row_source},
                         {host_.aux_source, inputs_.aux_source},
                         {host_.vocab_bias, inputs_.vocab_bias}});
  return absl::OkStatus();
}

void ZettStep::GradientPass() {
  const bool cast = options_.flat_cast && options_.precision.hypernet != hypernet_.dtype();
  const ZettLosses losses =
      ComputeLosses(hypernet_, backbone_, source_, inputs_, options_.precision, /*mimick=*/false,
                    cast ? optimizer_.CastParameters(options_.precision.hypernet)
                         : std::map<std::string, at::Tensor>());
  const double aux_scale = options_.aux_weight / static_cast<double>(options_.shards);
  (losses.lm_nats / count_ + losses.aux * aux_scale).backward();
  c10::NoGradGuard no_grad;
  lm_sum_.add_(losses.lm_nats.detach() / count_);
  aux_sum_.add_(losses.aux.detach() / static_cast<double>(options_.shards));
}

absl::Status ZettStep::AccumulateGradients(const ZettBatch& batch) {
  if (batch.mimick) {
    // The warm-up stage: other shapes, few steps, run as they come.
    const ZettLosses losses = ComputeLosses(hypernet_, backbone_, source_, ToDevice(batch, device_),
                                            options_.precision, /*mimick=*/true);
    (losses.aux / static_cast<double>(options_.shards)).backward();
    c10::NoGradGuard no_grad;
    aux_sum_.add_(losses.aux.detach() / static_cast<double>(options_.shards));
    return absl::OkStatus();
  }
  if (auto status = Load(batch); !status.ok()) return status;
  gradient_pass_->Run();
  return absl::OkStatus();
}

void ZettStep::UpdatePass() {
  const at::Tensor norm = optimizer_.ClipGradNorm(options_.grad_clip);
  optimizer_.Step(optimizer_.lr_tensor());
  optimizer_.ZeroGrad();
  c10::NoGradGuard no_grad;
  norm_sum_.add_(norm);
}

void ZettStep::Update(double lr) {
  optimizer_.lr_tensor().fill_(lr);
  update_pass_->Run();
  ++steps_;
}

StepStats ZettStep::TakeStats() {
  StepStats s;
  s.steps = steps_;
  const at::Tensor sums = at::stack({lm_sum_, aux_sum_, norm_sum_}).cpu();
  const double n = static_cast<double>(std::max<int64_t>(1, steps_));
  s.lm_nats = sums[0].item<double>() / n;
  s.aux = sums[1].item<double>() / n;
  s.grad_norm = sums[2].item<double>() / n;
  lm_sum_.zero_();
  aux_sum_.zero_();
  norm_sum_.zero_();
  steps_ = 0;
  return s;
}

std::string ZettStep::GraphStatus() const {
  auto one = [](const CapturedWork& w) {
    if (w.captured()) return std::string("graph");
    if (!w.capture_error().empty()) return "eager (capture failed: " + w.capture_error() + ")";
    return std::string("eager");
  };
  return absl::StrCat("gradient pass ", one(*gradient_pass_), ", update pass ", one(*update_pass_));
}

}  // namespace zett
