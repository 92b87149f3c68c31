#include "core/train/hypernet_train.h"

#include <c10/core/DeviceGuard.h>
#include <c10/core/GradMode.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <future>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/compat/torch_compat.h"
#include "core/hypernet/checkpoint.h"
#include "core/hypernet/config.h"
#include "core/hypernet/hypernet.h"
#include "core/hypernet/rescaler_fit.h"
#include "core/io/json_file.h"
#include "core/io/safetensors.h"
#include "core/model/backbone.h"
#include "core/model/pretrained.h"
#include "core/tokenizer/sentencepiece_model.h"
#include "core/tokenizer/tokenizer_file.h"
#include "core/train/adamw.h"
#include "core/train/command_line.h"
#include "core/train/distributed.h"
#include "core/train/loss_plot.h"
#include "core/train/lr_schedule.h"
#include "core/train/tokenizer_sampler.h"
#include "core/train/zett_batch.h"
#include "core/train/zett_loss.h"
#include "core/util/status_macros.h"

namespace zett {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// Padded vocabulary rows get this logit bias: never predicted, no gradient (references.md §2).
constexpr double kMaskedLogit = -1e4;

json OptionsToJson(const HypernetTrainOptions& o) {
  return {{"base_dir", o.base_dir},
          {"train_files", o.train_files},
          {"valid_files", o.valid_files},
          {"hn_n_layers", o.hn_n_layers},
          {"hn_surface_maxlen", o.hn_surface_maxlen},
          {"residual", o.residual},
          {"sample_vocab_size", o.sample_vocab_size},
          {"steps", o.steps},
          {"batch_size", o.batch_size},
          {"shards", o.shards},
          {"seq_len", o.seq_len},
          {"text_bytes", o.text_bytes},
          {"lr", o.lr},
          {"warmup_steps", o.warmup_steps},
          {"min_lr_ratio", o.min_lr_ratio},
          {"weight_decay", o.weight_decay},
          {"beta2", o.beta2},
          {"grad_clip", o.grad_clip},
          {"aux_weight", o.aux_weight},
          {"mimick_steps", o.mimick_steps},
          {"mimick_lr", o.mimick_lr},
          {"language_alpha", o.language_alpha},
          {"seed", o.seed}};
}

absl::StatusOr<std::unique_ptr<tokenizer::Tokenizer>> LoadOriginalTokenizer(
    const std::string& base_dir, std::string* tokenizer_json_path) {
  const std::string json_path = base_dir + "/tokenizer.json";
  if (fs::exists(json_path)) {
    *tokenizer_json_path = json_path;  // copied into every checkpoint
    return tokenizer::LoadTokenizerFile(json_path);
  }
  ASSIGN_OR_RETURN(std::string model, ReadFileToString(base_dir + "/tokenizer.model"));
  return tokenizer::LoadSentencePieceModel(model);
}

// Learning rate: warm-up + cosine; with a MIMICK stage first, that stage has its own linear
// warm-up to mimick_lr and the main schedule starts again from 0 after it (zett's two phases).
double LearningRate(const HypernetTrainOptions& o, int64_t step) {
  if (step < o.mimick_steps) {
    const int64_t warm = std::max<int64_t>(1, std::min(o.warmup_steps, o.mimick_steps));
    return o.mimick_lr * std::min(1.0, static_cast<double>(step + 1) / warm);
  }
  WarmupCosineSchedule main{o.lr, o.warmup_steps, o.steps - o.mimick_steps, o.min_lr_ratio};
  return main.At(step - o.mimick_steps);
}

struct BatchLosses {
  at::Tensor lm_nats;  // summed over the batch's labels (0 for MIMICK batches)
  at::Tensor aux;      // the batch's auxiliary loss (a mean)
};

// The losses of one batch. Backbone runs in its own dtype; predictions stay fp32 in the hypernet.
// The LM loss is a sum so that shards of one step can be normalised by the step's token count.
absl::StatusOr<BatchLosses> BatchLoss(const Hypernet& hypernet, PretrainedBackbone& backbone,
                                      const ZettBatch& batch, const at::Tensor& source_embeddings,
                                      at::ScalarType dtype) {
  ASSIGN_OR_RETURN(HypernetOutput out, PredictTargetEmbeddings(hypernet, batch, source_embeddings));
  BatchLosses losses;
  losses.aux = AuxiliaryLoss(out, batch, source_embeddings);
  if (batch.mimick) {
    losses.lm_nats = at::zeros({}, losses.aux.options());
    return losses;
  }
  const at::Device device = hypernet.device();
  const int64_t pad_rows = batch.padded_vocab_rows - batch.vocab_rows;
  auto padded = [&](const at::Tensor& e) {  // [V', d] → [P, d] in the backbone dtype
    at::Tensor x = e.to(dtype);
    if (pad_rows == 0) return x;
    return at::cat({x, at::zeros({pad_rows, x.size(1)}, x.options())}, 0);
  };
  DecoderInputs in;
  in.input_ids = batch.input_ids.to(device);
  in.attention_mask = batch.attention_mask.to(device);
  in.input_embeddings = padded(out.embeddings_in);
  in.lm_head_weight = padded(out.embeddings_out.defined() ? out.embeddings_out : out.embeddings_in);
  if (pad_rows > 0) {
    at::Tensor bias = at::zeros({batch.padded_vocab_rows}, in.lm_head_weight.options());
    bias.narrow(0, batch.vocab_rows, pad_rows).fill_(kMaskedLogit);
    in.lm_head_bias = bias;
  }
  at::Tensor logits = backbone.decoder(in).to(at::kFloat);  // [B, T, P]
  losses.lm_nats =
      at::cross_entropy_loss(logits.reshape({-1, logits.size(-1)}),
                             batch.labels.to(device).reshape({-1}), {}, at::Reduction::Sum, -100);
  return losses;
}

struct ValidationSet {
  std::vector<ZettBatch> batches;  // per fixed tokenizer, per chunk of texts
};

absl::StatusOr<ValidationSet> BuildValidation(const HypernetTrainOptions& o,
                                              const ZettBatchBuilder& builder,
                                              const TokenizerSamplerOptions& sampler_options,
                                              int64_t text_bytes) {
  ValidationSet v;
  if (o.valid_files.empty() || o.valid_tokenizers <= 0) return v;
  ASSIGN_OR_RETURN(TrainingTexts texts, TrainingTexts::Load(o.valid_files));
  const std::vector<std::string> held_out = texts.Leading(o.valid_texts_per_language, text_bytes);
  // The fixed tokenizers are sampled from the held-out text itself, with their own seed.
  ASSIGN_OR_RETURN(auto sampler, TokenizerSampler::Create(sampler_options, o.seed ^ 0x76616c69));
  sampler->Push(held_out);
  for (int64_t t = 0; t < o.valid_tokenizers; ++t) {
    ASSIGN_OR_RETURN(SampledTokenizer sampled, sampler->Sample());
    for (size_t start = 0; start < held_out.size(); start += o.batch_size) {
      std::vector<std::string> chunk(
          held_out.begin() + start,
          held_out.begin() + std::min(held_out.size(), start + static_cast<size_t>(o.batch_size)));
      ASSIGN_OR_RETURN(ZettBatch batch, builder.Build(chunk, sampled));
      batch.step = t;  // which tokenizer
      v.batches.push_back(std::move(batch));
    }
  }
  return v;
}

// Mean LM loss per token and bits per byte over the fixed tokenizers.
absl::StatusOr<json> Validate(const Hypernet& hypernet, PretrainedBackbone& backbone,
                              const ValidationSet& v, const at::Tensor& source_embeddings,
                              at::ScalarType dtype) {
  c10::NoGradGuard no_grad;
  double nats = 0, aux = 0;
  int64_t tokens = 0, bytes = 0;
  for (const ZettBatch& batch : v.batches) {
    ASSIGN_OR_RETURN(BatchLosses l, BatchLoss(hypernet, backbone, batch, source_embeddings, dtype));
    nats += l.lm_nats.item<double>();
    aux += l.aux.item<double>() / v.batches.size();
    tokens += batch.tokens;
    bytes += batch.label_bytes;
  }
  return json{{"loss", nats / std::max<int64_t>(1, tokens)},
              {"aux_loss", aux},
              {"bits_per_byte", nats / std::log(2.0) / std::max<int64_t>(1, bytes)},
              {"tokens_per_byte", static_cast<double>(tokens) / std::max<int64_t>(1, bytes)}};
}

absl::Status WritePlot(const std::string& dir, const json& history) {
  PlotSeries train{"train loss", 31, 119, 180, {}}, lm{"train LM loss", 255, 127, 14, {}};
  PlotSeries aux{"train aux loss", 44, 160, 44, {}}, valid{"valid loss", 214, 39, 40, {}};
  for (const auto& h : history["train"]) {
    const double step = h["step"].get<double>();
    train.points.emplace_back(step, h["loss"].get<double>());
    if (!h.value("mimick", false)) lm.points.emplace_back(step, h["lm_loss"].get<double>());
    aux.points.emplace_back(step, h["aux_loss"].get<double>());
  }
  for (const auto& h : history["valid"]) {
    valid.points.emplace_back(h["step"].get<double>(), h["loss"].get<double>());
  }
  return WriteLossCurvesPng(dir + "/loss_curve.png", {train, lm, aux, valid});
}

// Shard k's random choices (texts, sampled tokenizers, MIMICK tokens) derive from this seed, a
// pure function of (seed, shard); shard 0 keeps `seed`, so one-shard runs are unchanged.
uint64_t ShardSeed(uint64_t seed, int64_t shard) {
  return seed + 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(shard);
}

std::string SamplerStatePath(const std::string& dir, int64_t shard) {
  return shard == 0 ? dir + "/sampler_state.txt"
                    : absl::StrCat(dir, "/sampler_state.", shard, ".txt");
}

// (shard, sampler state) pairs of one rank as one string for Communicator::GatherToRoot.
std::string PackShardStates(const std::vector<std::pair<int64_t, std::string>>& states) {
  std::string packed;
  for (const auto& [shard, state] : states) {
    absl::StrAppend(&packed, shard, " ", state.size(), "\n", state);
  }
  return packed;
}

absl::Status UnpackShardStates(const std::string& packed, std::vector<std::string>* by_shard) {
  size_t pos = 0;
  while (pos < packed.size()) {
    const size_t newline = packed.find('\n', pos);
    int64_t shard = -1;
    size_t size = 0;
    std::istringstream header(packed.substr(pos, newline - pos));
    if (newline == std::string::npos || !(header >> shard >> size) || shard < 0 ||
        shard >= static_cast<int64_t>(by_shard->size()) || newline + 1 + size > packed.size()) {
      return absl::InternalError("malformed sampler states from another rank");
    }
    (*by_shard)[shard] = packed.substr(newline + 1, size);
    pos = newline + 1 + size;
  }
  return absl::OkStatus();
}

// Model files first, trainer_state.json last: a run killed mid-save resumes from the previous
// complete state. Nothing here depends on the world size: another one can resume it.
absl::Status Save(const HypernetTrainOptions& o, const Hypernet& hypernet, const AdamW& optimizer,
                  const std::string& tokenizer_json_path,
                  const std::vector<std::string>& sampler_states, const json& history,
                  double elapsed, int64_t tokens_seen) {
  RETURN_IF_ERROR(SaveHypernet(o.output_dir, hypernet, tokenizer_json_path));
  RETURN_IF_ERROR(WriteSafetensors(o.output_dir + "/optimizer.safetensors", optimizer.State()));
  for (size_t shard = 0; shard < sampler_states.size(); ++shard) {
    RETURN_IF_ERROR(
        WriteStringToFile(SamplerStatePath(o.output_dir, shard), sampler_states[shard]));
  }
  RETURN_IF_ERROR(WritePlot(o.output_dir, history));
  json state = {{"step", optimizer.step()},
                {"seed", o.seed},
                {"shards", sampler_states.size()},
                {"tokens_seen", tokens_seen},
                {"elapsed_seconds", elapsed},
                {"options", OptionsToJson(o)},
                {"history", history}};
  return WriteJsonFile(o.output_dir + "/trainer_state.json", state);
}

// Sums the gradients (and `stats`) over the ranks in one all-reduce. A parameter without a
// gradient on some rank contributes zeros and keeps no gradient only when no rank has one: the
// gradients a single process gets from accumulating all shards.
absl::Status ReduceGradients(Communicator& comm,
                             const std::vector<std::pair<std::string, at::Tensor>>& params,
                             const std::vector<at::Tensor>& stats) {
  if (comm.world_size() == 1) return absl::OkStatus();
  std::vector<at::Tensor> buffers;
  std::vector<float> has_grad;
  for (const auto& [name, param] : params) {
    at::Tensor& grad = const_cast<at::Tensor&>(param).mutable_grad();
    has_grad.push_back(grad.defined() ? 1.f : 0.f);
    if (!grad.defined()) grad = at::zeros_like(param);
    buffers.push_back(grad);
  }
  const at::Tensor has_grad_sum = at::tensor(has_grad).to(params.front().second.device());
  buffers.push_back(has_grad_sum);
  buffers.insert(buffers.end(), stats.begin(), stats.end());
  RETURN_IF_ERROR(comm.AllReduceSum(buffers));
  const at::Tensor any = has_grad_sum.cpu();
  for (size_t i = 0; i < params.size(); ++i) {
    if (any[i].item<float>() == 0) {
      const_cast<at::Tensor&>(params[i].second).mutable_grad() = at::Tensor();
    }
  }
  return absl::OkStatus();
}

// CUDA device of this rank: LOCAL_RANK (or the rank) over the visible devices, so that both
// CUDA_VISIBLE_DEVICES=<one> per process and all devices visible to every process work.
at::Device RankDevice(bool cuda, const DistributedOptions& d) {
  if (!cuda) return at::Device(at::kCPU);
  const int64_t count = c10::impl::getDeviceGuardImpl(at::kCUDA)->deviceCount();
  const int64_t local = d.local_rank >= 0 ? d.local_rank : d.rank;
  return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(local % std::max<int64_t>(1, count)));
}

// What every shard's batch producer reads; outlives the producers.
struct ShardInputs {
  const HypernetTrainOptions* options;
  const TrainingTexts* texts;
  const ZettBatchBuilder* builder;
  int64_t text_bytes;
  int64_t end;  // the step this run stops before
};

// One shard's batches from `first` on, built ahead on a background thread. The producer owns
// the shard's sampler while it runs; it snapshots the sampler after every step that ends in a
// save, so the checkpoint holds the state the next step starts from.
// Two CPU stages overlap: while step s is tokenized and decomposed, the sampler already draws
// step s + 1's tokenizer (sampling is sequential, building is not). A save step's sampler state
// is taken right after its own sample, before the next one starts.
std::unique_ptr<BatchPrefetcher> StartShard(const ShardInputs& in, int64_t shard,
                                            std::shared_ptr<TokenizerSampler> sampler,
                                            int64_t first) {
  const HypernetTrainOptions& o = *in.options;
  const uint64_t seed = ShardSeed(o.seed, shard);
  auto is_save_step = [&o, end = in.end](int64_t done) {
    return done % o.save_every == 0 || done == end;
  };
  struct Sampled {
    std::vector<std::string> texts;
    absl::StatusOr<SampledTokenizer> tokenizer = absl::UnknownError("not sampled");
    std::string state;
    double seconds = 0;
  };
  auto sample_step = [in, seed, sampler, is_save_step](int64_t step) {
    const HypernetTrainOptions& o = *in.options;
    const auto start = Clock::now();
    Sampled s;
    s.texts = in.texts->Sample(o.batch_size, in.text_bytes, o.language_alpha, seed, step);
    s.tokenizer = sampler->PushAndSample(s.texts);
    if (is_save_step(step + 1)) s.state = sampler->SerializeState();
    s.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return s;
  };
  auto pending = std::make_shared<std::future<Sampled>>();
  auto pending_step = std::make_shared<int64_t>(-1);
  return std::make_unique<BatchPrefetcher>(
      [in, seed, sampler, is_save_step, sample_step, pending,
       pending_step](int64_t step) -> absl::StatusOr<ZettBatch> {
        const HypernetTrainOptions& o = *in.options;
        ZettBatch batch;
        if (step < o.mimick_steps) {
          batch = in.builder->BuildMimick(o.mimick_tokens, seed, step);
          if (is_save_step(step + 1)) batch.sampler_state = sampler->SerializeState();
          return batch;
        }
        Sampled s = *pending_step == step ? pending->get() : sample_step(step);
        if (step + 1 < in.end) {
          *pending = std::async(std::launch::async, sample_step, step + 1);
          *pending_step = step + 1;
        }
        const auto start = Clock::now();
        ASSIGN_OR_RETURN(SampledTokenizer sampled, std::move(s.tokenizer));
        ASSIGN_OR_RETURN(batch, in.builder->Build(s.texts, sampled));
        batch.sampler_state = std::move(s.state);
        // CPU work of this batch (its sampling overlapped the previous batch's build).
        batch.cpu_seconds = s.seconds + std::chrono::duration<double>(Clock::now() - start).count();
        return batch;
      },
      first, in.end, static_cast<size_t>(std::max<int64_t>(1, o.prefetch)));
}

absl::Status Train(const HypernetTrainOptions& o) {
  const bool cuda = o.device == "cuda" || (o.device == "auto" && CudaAvailable());
  if (cuda && !CudaAvailable()) return absl::FailedPreconditionError("--device=cuda: no CUDA");
  const at::Device device = RankDevice(cuda, o.distributed);
  std::optional<c10::DeviceGuard> device_guard;  // this rank's GPU is the current one
  if (cuda) device_guard.emplace(device);
  at::ScalarType dtype = cuda ? at::kBFloat16 : at::kFloat;
  if (o.dtype != "auto") {
    ASSIGN_OR_RETURN(dtype, ParseDtype(o.dtype));
  }
  if (o.steps <= 0 || o.batch_size <= 0 || o.seq_len < 2 || o.mimick_steps >= o.steps) {
    return absl::InvalidArgumentError(
        "--steps and --batch_size must be positive, --seq_len >= 2, --mimick_steps < --steps");
  }
  const int64_t text_bytes = o.text_bytes > 0 ? o.text_bytes : 4 * o.seq_len;
  ASSIGN_OR_RETURN(std::unique_ptr<Communicator> comm, Communicator::Create(o.distributed, device));
  const bool root = comm->is_root();  // logs, validates and saves

  // Frozen backbone and the source table [E_in | E_out].
  BackboneOptions backbone_options;
  backbone_options.device = device;
  backbone_options.dtype = dtype;
  ASSIGN_OR_RETURN(PretrainedBackbone backbone,
                   LoadPretrainedBackbone(o.base_dir, backbone_options));
  if (!backbone.decoder) {
    return absl::UnimplementedError(
        absl::StrCat(o.base_dir, ": hypernetwork training supports decoder (causal) LMs only"));
  }
  backbone.decoder->eval();
  const bool tied = backbone.decoder->config().tie_word_embeddings;
  at::Tensor source_embeddings =
      tied ? backbone.decoder->InputEmbeddings().to(at::kFloat)
           : at::cat({backbone.decoder->InputEmbeddings(), backbone.decoder->OutputEmbeddings()}, 1)
                 .to(at::kFloat);
  source_embeddings = source_embeddings.detach().contiguous();  // [V_orig, 2d] on device
  const int64_t d = backbone.decoder->config().hidden_size;

  // Original tokenizer and batch building.
  std::string tokenizer_json_path;
  ASSIGN_OR_RETURN(auto original, LoadOriginalTokenizer(o.base_dir, &tokenizer_json_path));
  const auto& cfg = backbone.decoder->config();
  const auto bos_id = static_cast<int32_t>(cfg.bos_token_id.value_or(1));
  const auto eos_id = static_cast<int32_t>(cfg.eos_token_id.value_or(2));
  const auto pad_id = static_cast<int32_t>(cfg.pad_token_id.value_or(eos_id));
  ZettBatchOptions batch_options;
  batch_options.seq_len = o.seq_len;
  batch_options.max_len = o.hn_surface_maxlen;
  ASSIGN_OR_RETURN(auto builder,
                   ZettBatchBuilder::Create(*original, bos_id, pad_id, batch_options));
  const auto& converted = builder->decomposer().original_vocabulary();
  if (converted.original_size > source_embeddings.size(0)) {
    return absl::InvalidArgumentError(
        absl::StrCat(o.base_dir, ": tokenizer has ", converted.original_size,
                     " ids but the model only ", source_embeddings.size(0), " embedding rows"));
  }

  // Hypernetwork.
  ZettHypernetConfig hc;
  hc.hn_surface_maxlen = o.hn_surface_maxlen;
  hc.hn_n_layers = o.hn_n_layers;
  hc.n_embd = d;
  if (o.hn_hidden_size > 0) hc.hn_hidden_size = o.hn_hidden_size;
  hc.hn_num_attention_heads = o.hn_num_attention_heads > 0
                                  ? o.hn_num_attention_heads
                                  : std::max<int64_t>(1, hc.hidden_size() / 64);
  hc.hn_rescale_embeddings = true;
  hc.hn_embed_using_source_embeddings = true;
  hc.hn_predict_bias = false;  // a Llama LM head has no bias
  hc.original_vocab_size = converted.original_size;
  hc.pad_token_id = pad_id;
  hc.separate_out_embeddings = !tied;
  hc.hn_n_extra_tokens =
      static_cast<int64_t>(converted.surface_forms.size()) - converted.original_size;
  hc.hn_residual = o.residual;
  hc.hn_residual_alpha = o.residual_alpha;
  std::error_code fs_error;
  fs::create_directories(o.output_dir, fs_error);
  if (fs_error) {
    return absl::InternalError(absl::StrCat("creating ", o.output_dir, ": ", fs_error.message()));
  }
  const std::string state_path = o.output_dir + "/trainer_state.json";
  const bool resuming = o.resume && fs::exists(state_path);
  std::optional<Hypernet> hypernet_holder;
  if (resuming) {
    ASSIGN_OR_RETURN(hypernet_holder, LoadHypernet(o.output_dir));
  } else {
    ASSIGN_OR_RETURN(hypernet_holder, Hypernet::Create(hc, o.seed));
  }
  Hypernet& hypernet = *hypernet_holder;
  RETURN_IF_ERROR(hypernet.To(device, at::kFloat));
  if (!resuming) {
    // Rescalers from (up to) 2048 original tokens decomposed to themselves, as zett does.
    ZettBatch fit =
        builder->BuildMimick(std::min<int64_t>(2048, converted.original_size - 8), o.seed, -1);
    const at::Tensor ids = fit.aux_source_ids.to(device);
    const at::Tensor rows = source_embeddings.index_select(0, ids);
    RETURN_IF_ERROR(FitRescalers(hypernet, source_embeddings, fit.surface_forms.to(device),
                                 rows.narrow(1, 0, d), tied ? at::Tensor() : rows.narrow(1, d, d)));
  }
  hypernet.SetRequiresGrad(true);
  std::vector<std::pair<std::string, at::Tensor>> trainable;
  std::vector<at::Tensor> trainable_tensors;
  int64_t parameters = 0;
  for (auto& [name, tensor] : hypernet.NamedParameters()) {
    if (!tensor.requires_grad()) continue;
    trainable.emplace_back(name, tensor);
    trainable_tensors.push_back(tensor);
    parameters += tensor.numel();
  }
  AdamWOptions adam;
  adam.beta2 = o.beta2;
  adam.weight_decay = o.weight_decay;
  AdamW optimizer(trainable, adam);

  // Resume state; the shards (batches per step, each with its own sampled tokenizer) are the
  // checkpoint's unless given.
  json history = {{"train", json::array()}, {"valid", json::array()}};
  double elapsed_before = 0;
  int64_t tokens_seen = 0;
  int64_t shards = o.shards > 0 ? o.shards : o.distributed.world_size;
  json state;
  if (resuming) {
    ASSIGN_OR_RETURN(state, ReadJsonFile(state_path));
    const int64_t saved_shards = state.value("shards", int64_t{1});
    if (o.shards > 0 && o.shards != saved_shards) {
      return absl::InvalidArgumentError(absl::StrCat(
          o.output_dir, " was trained with ", saved_shards, " shards per step, not --shards=",
          o.shards, " (the batch of a step must stay the same to resume)"));
    }
    shards = saved_shards;
    ASSIGN_OR_RETURN(TensorMap optimizer_state,
                     ReadSafetensors(o.output_dir + "/optimizer.safetensors"));
    RETURN_IF_ERROR(optimizer.LoadState(optimizer_state));
    history = state.value("history", history);
    elapsed_before = state.value("elapsed_seconds", 0.0);
    tokens_seen = state.value("tokens_seen", int64_t{0});
    if (root)
      std::cout << "resuming from " << o.output_dir << " at step " << optimizer.step() << "\n";
  }
  const int64_t world = comm->world_size();
  if (shards % world != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(shards, " shards per step do not split over ", world, " ranks"));
  }
  // Identical parameters on every rank (loaded or initialised the same way; this makes sure).
  RETURN_IF_ERROR(comm->Broadcast(trainable_tensors));

  // This rank's shards: rank, rank + world, ...; each has its own sampler.
  TokenizerSamplerOptions sampler_options;
  sampler_options.vocab_size = o.sample_vocab_size;
  sampler_options.queue_batches = o.sampler_queue_batches;
  sampler_options.noise_mean = o.noise_mean;
  sampler_options.noise_std = o.noise_std;
  std::vector<int64_t> local_shards;
  std::vector<std::shared_ptr<TokenizerSampler>> samplers;
  for (int64_t shard = comm->rank(); shard < shards; shard += world) {
    ASSIGN_OR_RETURN(std::shared_ptr<TokenizerSampler> sampler,
                     TokenizerSampler::Create(sampler_options, ShardSeed(o.seed, shard)));
    if (resuming) {
      ASSIGN_OR_RETURN(std::string sampler_state,
                       ReadFileToString(SamplerStatePath(o.output_dir, shard)));
      RETURN_IF_ERROR(sampler->RestoreState(sampler_state));
    }
    local_shards.push_back(shard);
    samplers.push_back(std::move(sampler));
  }
  ASSIGN_OR_RETURN(TrainingTexts texts, TrainingTexts::Load(o.train_files));
  ValidationSet validation;
  if (root) {
    ASSIGN_OR_RETURN(validation, BuildValidation(o, *builder, sampler_options, text_bytes));
    std::cout << absl::StrFormat(
                     "hypernet: %d trainable parameters (H %d, %d layers, %d heads, L %d, %s) on "
                     "%s; backbone %s; %d training documents in %d files; k = %d; %d validation "
                     "batches; %d shards of %d texts per step on %d rank(s)%s",
                     parameters, hc.hidden_size(), hc.hn_n_layers, *hc.hn_num_attention_heads,
                     hc.hn_surface_maxlen, o.residual ? "residual" : "plain", device.str(),
                     DtypeName(dtype), texts.documents(), texts.names().size(), o.sample_vocab_size,
                     validation.batches.size(), shards, o.batch_size, world,
                     world > 1 ? " (" + comm->backend() + ")" : "")
              << std::endl;
  }

  const int64_t end = o.stop_after > 0 ? std::min(o.stop_after, o.steps) : o.steps;
  auto is_save_step = [&](int64_t done) { return done % o.save_every == 0 || done == end; };
  const ShardInputs shard_inputs{&o, &texts, builder.get(), text_bytes, end};
  std::vector<std::unique_ptr<BatchPrefetcher>> prefetchers;
  for (size_t i = 0; i < local_shards.size(); ++i) {
    prefetchers.push_back(StartShard(shard_inputs, local_shards[i], samplers[i], optimizer.step()));
  }

  const auto start_time = Clock::now();
  auto elapsed = [&]() {
    return elapsed_before + std::chrono::duration<double>(Clock::now() - start_time).count();
  };
  auto interval_start = Clock::now();
  int64_t n = 0, interval_tokens = 0;
  double sum_loss = 0, sum_lm = 0, sum_aux = 0, sum_cpu = 0, sum_gpu = 0, sum_grad = 0;
  double wait_before = 0;
  auto wait_seconds = [&]() {
    double wait = 0;
    for (const auto& p : prefetchers) wait += p->wait_seconds();
    return wait;
  };
  const at::TensorOptions on_device = at::TensorOptions().device(device);
  for (int64_t step = optimizer.step(); step < end; ++step) {
    std::vector<ZettBatch> batches;
    int64_t local_tokens = 0;
    double cpu_seconds = 0;
    for (auto& prefetcher : prefetchers) {
      ASSIGN_OR_RETURN(ZettBatch batch, prefetcher->Next());
      local_tokens += batch.tokens;
      cpu_seconds += batch.cpu_seconds;
      batches.push_back(std::move(batch));
    }
    const bool mimick = batches.front().mimick;
    const auto gpu_start = Clock::now();
    // The step's loss is that of all shards as one batch: LM nats over the step's labels (all
    // ranks') plus aux_weight × the shards' mean auxiliary loss. Each shard backpropagates its
    // part, so the gradients summed over ranks are those of the step's loss.
    int64_t step_tokens = local_tokens;
    if (world > 1) {  // (one process needs no device round trip)
      at::Tensor count =
          at::full({1}, static_cast<double>(local_tokens), on_device.dtype(at::kDouble));
      RETURN_IF_ERROR(comm->AllReduceSum({count}));
      step_tokens = std::llround(count.item<double>());
    }
    const double lm_scale = 1.0 / std::max<int64_t>(1, step_tokens);
    const double aux_scale = (mimick ? 1.0 : o.aux_weight) / shards;
    at::Tensor lm_nats = at::zeros({}, on_device.dtype(at::kFloat));
    at::Tensor aux_sum = at::zeros({}, on_device.dtype(at::kFloat));
    for (const ZettBatch& batch : batches) {
      ASSIGN_OR_RETURN(BatchLosses losses,
                       BatchLoss(hypernet, backbone, batch, source_embeddings, dtype));
      (losses.lm_nats * lm_scale + losses.aux * aux_scale).backward();
      lm_nats += losses.lm_nats.detach();
      aux_sum += losses.aux.detach();
    }
    RETURN_IF_ERROR(ReduceGradients(*comm, trainable, {lm_nats, aux_sum}));
    const double grad_norm = optimizer.ClipGradNorm(o.grad_clip);
    const double lr = LearningRate(o, step);
    optimizer.Step(lr);
    const double lm = lm_nats.item<double>() * lm_scale;  // synchronises the device
    const double aux = aux_sum.item<double>() / shards;
    const double loss = mimick ? aux : lm + o.aux_weight * aux;
    if (!std::isfinite(loss)) {
      return absl::InternalError(absl::StrCat("loss is ", loss, " at step ", step));
    }
    sum_gpu += std::chrono::duration<double>(Clock::now() - gpu_start).count();
    sum_loss += loss;
    sum_lm += lm;
    sum_aux += aux;
    sum_cpu += cpu_seconds;
    sum_grad += grad_norm;
    interval_tokens += step_tokens;
    tokens_seen += step_tokens;
    ++n;

    const int64_t done = step + 1;
    if (done % o.log_every == 0 || done == end) {
      const double seconds = std::chrono::duration<double>(Clock::now() - interval_start).count();
      const double wait = wait_seconds() - wait_before;
      const double eta = (o.steps - done) * seconds / n;
      if (root) {
        std::cout << absl::StrFormat(
                         "step %d/%d%s | loss %.4f | lm %.4f | aux %.4f | lr %.2e | grad_norm "
                         "%.3f | %.0f tok/s | cpu %.0f ms/batch (prefetched) | gpu %.0f ms/step "
                         "| wait %.0f ms | elapsed %s | eta %s",
                         done, o.steps, mimick ? " (mimick)" : "", sum_loss / n, sum_lm / n,
                         sum_aux / n, lr, sum_grad / n, interval_tokens / std::max(seconds, 1e-9),
                         1e3 * sum_cpu / n, 1e3 * sum_gpu / n, 1e3 * wait / n,
                         FormatDuration(elapsed()), FormatDuration(eta))
                  << std::endl;
      }
      history["train"].push_back({{"step", done},
                                  {"loss", sum_loss / n},
                                  {"lm_loss", sum_lm / n},
                                  {"aux_loss", sum_aux / n},
                                  {"mimick", mimick},
                                  {"lr", lr},
                                  {"grad_norm", sum_grad / n},
                                  {"tokens_per_second", interval_tokens / std::max(seconds, 1e-9)},
                                  {"cpu_ms_per_batch", 1e3 * sum_cpu / n},
                                  {"gpu_ms_per_step", 1e3 * sum_gpu / n}});
      interval_start = Clock::now();
      wait_before = wait_seconds();
      n = interval_tokens = 0;
      sum_loss = sum_lm = sum_aux = sum_cpu = sum_gpu = sum_grad = 0;
    }
    if (!validation.batches.empty() && (done % o.eval_every == 0 || done == o.steps)) {
      ASSIGN_OR_RETURN(json result,
                       Validate(hypernet, backbone, validation, source_embeddings, dtype));
      std::cout << absl::StrFormat(
                       "valid step %d | loss %.4f | aux %.4f | %.4f bits/byte | %.4f tokens/byte",
                       done, result["loss"].get<double>(), result["aux_loss"].get<double>(),
                       result["bits_per_byte"].get<double>(),
                       result["tokens_per_byte"].get<double>())
                << std::endl;
      result["step"] = done;
      history["valid"].push_back(result);
    }
    if (is_save_step(done)) {
      std::vector<std::pair<int64_t, std::string>> mine;
      for (size_t i = 0; i < local_shards.size(); ++i) {
        mine.emplace_back(local_shards[i], std::move(batches[i].sampler_state));
      }
      ASSIGN_OR_RETURN(
          std::vector<std::string> packed,
          comm->GatherToRoot(absl::StrCat("sampler_states/", done), PackShardStates(mine)));
      if (root) {
        std::vector<std::string> sampler_states(shards);
        for (const std::string& p : packed) RETURN_IF_ERROR(UnpackShardStates(p, &sampler_states));
        RETURN_IF_ERROR(Save(o, hypernet, optimizer, tokenizer_json_path, sampler_states, history,
                             elapsed(), tokens_seen));
        std::cout << "saved " << o.output_dir << " at step " << done << std::endl;
      }
    }
  }
  // Rank 0 serves the store: everyone leaves together.
  return comm->Barrier();
}

}  // namespace

absl::Status RunHypernetTrain(const HypernetTrainOptions& options) {
  try {
    return Train(options);
  } catch (const c10::Error& e) {
    return absl::InternalError(
        absl::StrCat("hypernet train: LibTorch error: ", e.what_without_backtrace()));
  } catch (const nlohmann::json::exception& e) {
    return absl::InternalError(absl::StrCat("hypernet train: JSON error: ", e.what()));
  }
}

}  // namespace zett
