#include "core/train/hypernet_train.h"

#include <c10/core/DeviceGuard.h>
#include <c10/core/GradMode.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>
#include <torch/cuda.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/compat/cuda_graph.h"
#include "core/compat/device_choice.h"
#include "core/compat/kernel_trace.h"
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
#include "core/train/batch_prefetcher.h"
#include "core/train/command_line.h"
#include "core/train/distributed.h"
#include "core/train/flat_adamw.h"
#include "core/train/history_events.h"
#include "core/train/lr_schedule.h"
#include "core/train/run_plots.h"
#include "core/train/run_state.h"
#include "core/train/tokenizer_sampler.h"
#include "core/train/training_texts.h"
#include "core/train/zett_batch.h"
#include "core/train/zett_step.h"
#include "core/transfer/fallback_rows.h"
#include "core/util/status_macros.h"

namespace zett {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// The filler texts of a step are drawn from a stream of their own (seed ^ this).
constexpr uint64_t kFillerSeed = 0x66696c6c65727321ull;

json OptionsToJson(const HypernetTrainOptions& o) {
  return {{"base_dir", o.base_dir},
          {"train_files", o.train_files},
          {"valid_files", o.valid_files},
          {"output_dir", o.output_dir},
          {"init_hypernet", o.init_hypernet},
          {"hn_n_layers", o.hn_n_layers},
          {"hn_surface_maxlen", o.hn_surface_maxlen},
          {"hn_hidden_size", o.hn_hidden_size},
          {"hn_num_attention_heads", o.hn_num_attention_heads},
          {"residual", o.residual},
          {"residual_alpha", o.residual_alpha},
          {"sample_vocab_size", o.sample_vocab_size},
          {"sampler_queue_batches", o.sampler_queue_batches},
          {"noise_mean", o.noise_mean},
          {"noise_std", o.noise_std},
          {"steps", o.steps},
          {"batch_size", o.batch_size},
          {"shards", o.shards},
          {"seq_len", o.seq_len},
          {"text_bytes", o.text_bytes},
          {"pack_texts", o.pack_texts},
          {"lr", o.lr},
          {"warmup_steps", o.warmup_steps},
          {"min_lr_ratio", o.min_lr_ratio},
          {"weight_decay", o.weight_decay},
          {"beta2", o.beta2},
          {"grad_clip", o.grad_clip},
          {"aux_weight", o.aux_weight},
          {"identity_every", o.identity_every},
          {"mimick_steps", o.mimick_steps},
          {"mimick_lr", o.mimick_lr},
          {"mimick_tokens", o.mimick_tokens},
          {"language_alpha", o.language_alpha},
          {"seed", o.seed},
          {"device", o.device},
          {"dtype", o.dtype},
          {"hypernet_dtype", o.hypernet_dtype},
          {"prefetch", o.prefetch},
          {"data_workers", o.data_workers},
          {"cuda_graph", o.cuda_graph},
          {"fused_cross_entropy", o.fused_cross_entropy},
          {"flat_cast", o.flat_cast},
          {"log_every", o.log_every},
          {"eval_every", o.eval_every},
          {"save_every", o.save_every},
          {"valid_tokenizers", o.valid_tokenizers},
          {"valid_texts_per_language", o.valid_texts_per_language},
          {"stop_after", o.stop_after}};
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

// (stream, sampler state) pairs of one rank as one string for Communicator::GatherToRoot.
std::string PackStreamStates(const std::vector<std::pair<int64_t, std::string>>& states) {
  std::string packed;
  for (const auto& [stream, state] : states) {
    absl::StrAppend(&packed, stream, " ", state.size(), "\n", state);
  }
  return packed;
}

absl::Status UnpackStreamStates(const std::string& packed, std::vector<std::string>* by_stream) {
  size_t pos = 0;
  while (pos < packed.size()) {
    const size_t newline = packed.find('\n', pos);
    int64_t stream = -1;
    size_t size = 0;
    std::istringstream header(packed.substr(pos, newline - pos));
    if (newline == std::string::npos || !(header >> stream >> size) || stream < 0 ||
        stream >= static_cast<int64_t>(by_stream->size()) || newline + 1 + size > packed.size()) {
      return absl::InternalError("malformed sampler states from another rank");
    }
    (*by_stream)[stream] = packed.substr(newline + 1, size);
    pos = newline + 1 + size;
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

// Batch stream k = shard * workers + worker: its texts are a function of (seed, shard, step),
// its sampler's randomness of (seed, shard, worker). Shard 0, worker 0 keeps `seed`.
uint64_t ShardSeed(uint64_t seed, int64_t shard) {
  return seed + 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(shard);
}
uint64_t WorkerSeed(uint64_t shard_seed, int64_t worker) {
  return shard_seed + 0xD1B54A32D192ED03ull * static_cast<uint64_t>(worker);
}

std::string SamplerStatePath(const std::string& dir, int64_t shard, int64_t worker) {
  std::string name = "sampler_state";
  if (shard > 0 || worker > 0) absl::StrAppend(&name, ".", shard);
  if (worker > 0) absl::StrAppend(&name, ".w", worker);
  return absl::StrCat(dir, "/", name, ".txt");
}

// Worker processes of the CPU side: the host's cores less one for the training loop, shared
// by this host's ranks, at most 16.
int64_t DefaultDataWorkers(int64_t ranks_per_host) {
  const int64_t cores = std::max<unsigned>(1, std::thread::hardware_concurrency());
  return std::clamp<int64_t>((cores - 1) / std::max<int64_t>(1, ranks_per_host), 1, 16);
}

// The frozen backbone and its source table [E_in | E_out] (or E_in when tied).
struct Backbone {
  PretrainedBackbone model;
  at::Tensor source_embeddings;  // [V_orig, 2d] fp32 on the device
  int64_t d = 0;
  bool tied = false;
  int32_t bos_id = 1, pad_id = 2;
};

absl::StatusOr<Backbone> LoadFrozenBackbone(const std::string& base_dir, at::Device device,
                                            at::ScalarType dtype) {
  BackboneOptions options;
  options.device = device;
  options.dtype = dtype;
  Backbone b;
  ASSIGN_OR_RETURN(b.model, LoadPretrainedBackbone(base_dir, options));
  if (!b.model.decoder) {
    return absl::UnimplementedError(
        absl::StrCat(base_dir, ": hypernetwork training supports decoder (causal) LMs only"));
  }
  b.model.decoder->eval();
  for (auto& p : b.model.decoder->parameters()) p.requires_grad_(false);
  const auto& cfg = b.model.decoder->config();
  b.tied = cfg.tie_word_embeddings;
  b.d = cfg.hidden_size;
  at::Tensor source =
      b.tied
          ? b.model.decoder->InputEmbeddings()
          : at::cat({b.model.decoder->InputEmbeddings(), b.model.decoder->OutputEmbeddings()}, 1);
  b.source_embeddings = source.to(at::kFloat).detach().contiguous();
  const auto eos = static_cast<int32_t>(cfg.eos_token_id.value_or(2));
  b.bos_id = static_cast<int32_t>(cfg.bos_token_id.value_or(1));
  b.pad_id = static_cast<int32_t>(cfg.pad_token_id.value_or(eos));
  return b;
}

ZettHypernetConfig NewHypernetConfig(const HypernetTrainOptions& o, const Backbone& backbone,
                                     const tokenizer::ByteLevelVocabulary& converted) {
  ZettHypernetConfig hc;
  hc.hn_surface_maxlen = o.hn_surface_maxlen;
  hc.hn_n_layers = o.hn_n_layers;
  hc.n_embd = backbone.d;
  if (o.hn_hidden_size > 0) hc.hn_hidden_size = o.hn_hidden_size;
  hc.hn_num_attention_heads = o.hn_num_attention_heads > 0
                                  ? o.hn_num_attention_heads
                                  : std::max<int64_t>(1, hc.hidden_size() / 64);
  hc.hn_rescale_embeddings = true;
  hc.hn_embed_using_source_embeddings = true;
  hc.hn_predict_bias = false;  // a Llama LM head has no bias
  hc.original_vocab_size = converted.original_size;
  hc.pad_token_id = backbone.pad_id;
  hc.separate_out_embeddings = !backbone.tied;
  hc.hn_n_extra_tokens = ConversionExtraTokens(hc, converted);
  hc.hn_residual = o.residual;
  hc.hn_residual_alpha = o.residual_alpha;
  return hc;
}

// --init_hypernet must have been trained for this base: its width, its original vocabulary
// and its tied/untied heads.
absl::Status CheckInitMatchesBase(const ZettHypernetConfig& hc, const Backbone& backbone,
                                  const std::string& dir) {
  if (hc.n_embd != backbone.d) {
    return absl::FailedPreconditionError(absl::StrCat("--init_hypernet ", dir, ": n_embd ",
                                                      hc.n_embd, " != the base's ", backbone.d));
  }
  if (hc.original_vocab_size > backbone.source_embeddings.size(0)) {
    return absl::FailedPreconditionError(
        absl::StrCat("--init_hypernet ", dir, ": original_vocab_size ", hc.original_vocab_size,
                     " > the base's ", backbone.source_embeddings.size(0), " embedding rows"));
  }
  if (hc.separate_out_embeddings == backbone.tied) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--init_hypernet ", dir, ": separate_out_embeddings disagrees with the base's ",
        backbone.tied ? "tied" : "untied", " embeddings"));
  }
  return absl::OkStatus();
}

// A new hypernetwork with rescalers fitted on up to 2048 original tokens decomposed to
// themselves (as zett does), the one being resumed, or --init_hypernet's.
absl::StatusOr<Hypernet> MakeHypernet(const HypernetTrainOptions& o, bool resuming,
                                      const Backbone& backbone, const ZettBatchBuilder& builder,
                                      at::Device device) {
  const auto& converted = builder.decomposer().original_vocabulary();
  std::optional<Hypernet> hypernet;
  const bool initialised = !resuming && !o.init_hypernet.empty();
  if (resuming || initialised) {
    const std::string& dir = resuming ? o.output_dir : o.init_hypernet;
    ASSIGN_OR_RETURN(hypernet, LoadHypernet(dir));
    if (initialised) RETURN_IF_ERROR(CheckInitMatchesBase(hypernet->config(), backbone, dir));
    RETURN_IF_ERROR(CheckFallbackRows(hypernet->config(), converted));
  } else {
    ASSIGN_OR_RETURN(hypernet, Hypernet::Create(NewHypernetConfig(o, backbone, converted), o.seed));
  }
  RETURN_IF_ERROR(hypernet->To(device, at::kFloat));
  if (!resuming && !initialised) {
    const ZettBatch fit =
        builder.BuildMimick(std::min<int64_t>(2048, converted.original_size - 8), o.seed, -1);
    const at::Tensor ids = fit.aux_source.to(device);
    const at::Tensor rows = backbone.source_embeddings.index_select(0, ids);
    const int64_t d = backbone.d;
    RETURN_IF_ERROR(FitRescalers(*hypernet, backbone.source_embeddings,
                                 fit.surface_forms.to(device), rows.narrow(1, 0, d),
                                 backbone.tied ? at::Tensor() : rows.narrow(1, d, d)));
  }
  return std::move(*hypernet);
}

std::vector<std::pair<std::string, at::Tensor>> TrainableParameters(const Hypernet& hypernet) {
  std::vector<std::pair<std::string, at::Tensor>> trainable;
  const std::vector<at::Tensor> wanted = hypernet.TrainableParameters();
  for (auto& [name, tensor] : hypernet.NamedParameters()) {
    for (const at::Tensor& t : wanted) {
      if (t.is_same(tensor)) trainable.emplace_back(name, tensor);
    }
  }
  return trainable;
}

// Validation: `valid_tokenizers` tokenizers sampled once from the held-out text itself (their
// own seed), over the first documents of each valid file.
absl::StatusOr<std::vector<ZettBatch>> BuildValidation(
    const HypernetTrainOptions& o, const ZettBatchBuilder& builder,
    const TokenizerSamplerOptions& sampler_options, int64_t text_bytes) {
  std::vector<ZettBatch> batches;
  if (o.valid_files.empty() || o.valid_tokenizers <= 0) return batches;
  ASSIGN_OR_RETURN(TrainingTexts texts, TrainingTexts::Load(o.valid_files));
  const std::vector<std::string> held_out = texts.Leading(o.valid_texts_per_language, text_bytes);
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
      batches.push_back(std::move(batch));
    }
  }
  return batches;
}

// Mean LM loss per token and bits per byte over the fixed tokenizers; the hypernetwork in fp32
// whatever the step computes in, so runs of either precision compare on their parameters.
json Validate(const Hypernet& hypernet, Backbone& backbone, const std::vector<ZettBatch>& batches,
              at::ScalarType dtype, at::Device device) {
  c10::NoGradGuard no_grad;
  double nats = 0, aux = 0;
  int64_t tokens = 0, bytes = 0;
  for (const ZettBatch& batch : batches) {
    const ZettLosses l = ComputeLosses(hypernet, backbone.model, backbone.source_embeddings,
                                       ToDevice(batch, device), StepPrecision{dtype, at::kFloat},
                                       /*mimick=*/false);
    nats += l.lm_nats.item<double>();
    aux += l.aux.item<double>() / batches.size();
    tokens += batch.tokens;
    bytes += batch.label_bytes;
  }
  return json{{"loss", nats / std::max<int64_t>(1, tokens)},
              {"aux_loss", aux},
              {"bits_per_byte", nats / std::log(2.0) / std::max<int64_t>(1, bytes)},
              {"tokens_per_byte", static_cast<double>(tokens) / std::max<int64_t>(1, bytes)}};
}

// What every batch stream reads; outlives the prefetchers.
struct StreamInputs {
  const HypernetTrainOptions* options;
  const TrainingTexts* texts;
  const ZettBatchBuilder* builder;
  int64_t text_bytes;
  int64_t end;      // the step this run stops before
  int64_t workers;  // per shard
};

// A save at `done` steps needs, from each worker, its sampler state after its last step before
// `done`: worker of step s snapshots when its next step (s + W) is at or past a save point.
bool NeedsSnapshot(const HypernetTrainOptions& o, int64_t end, int64_t step, int64_t workers) {
  for (int64_t done = step + 1; done <= std::min(step + workers, end); ++done) {
    if (done % o.save_every == 0 || done == end) return true;
  }
  return false;
}

// One shard's batches from `first` on, built by `workers` threads, each with its own sampler.
std::unique_ptr<BatchPrefetcher> StartShard(const StreamInputs& in, int64_t shard,
                                            std::vector<std::shared_ptr<TokenizerSampler>> samplers,
                                            int64_t first) {
  const uint64_t seed = ShardSeed(in.options->seed, shard);
  auto produce = [in, seed, samplers](int64_t step, int worker) -> absl::StatusOr<ZettBatch> {
    const HypernetTrainOptions& o = *in.options;
    if (step < o.mimick_steps) {
      ZettBatch batch = in.builder->BuildMimick(o.mimick_tokens, seed, step);
      if (NeedsSnapshot(o, in.end, step, in.workers)) {
        batch.sampler_state = samplers[worker]->SerializeState();
      }
      return batch;
    }
    const auto start = Clock::now();
    const std::vector<std::string> texts =
        in.texts->Sample(o.batch_size, in.text_bytes, o.language_alpha, seed, step);
    const std::vector<std::string> fillers =
        o.pack_texts ? in.texts->Sample(o.batch_size, in.text_bytes, o.language_alpha,
                                        seed ^ kFillerSeed, step)
                     : std::vector<std::string>{};
    ZettBatch batch;
    if (o.identity_every > 0 && (step + 1) % o.identity_every == 0) {
      ASSIGN_OR_RETURN(batch, in.builder->BuildIdentity(texts, fillers));
    } else {
      ASSIGN_OR_RETURN(SampledTokenizer sampled, samplers[worker]->PushAndSample(texts));
      ASSIGN_OR_RETURN(batch, in.builder->Build(texts, sampled, fillers));
    }
    if (NeedsSnapshot(o, in.end, step, in.workers)) {
      batch.sampler_state = samplers[worker]->SerializeState();
    }
    batch.cpu_seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return batch;
  };
  const int64_t capacity =
      in.options->prefetch > 0 ? in.options->prefetch : 2 * std::max<int64_t>(1, in.workers);
  return std::make_unique<BatchPrefetcher>(produce, first, in.end, capacity,
                                           static_cast<int>(in.workers));
}

// Model files first, trainer_state.json last: a run killed mid-save resumes from the previous
// complete state. Nothing here depends on the world size: another one can resume it.
absl::Status Save(const HypernetTrainOptions& o, const Hypernet& hypernet,
                  const FlatAdamW& optimizer, const std::string& tokenizer_json_path,
                  const std::vector<std::string>& sampler_states, int64_t workers,
                  const RunState& state) {
  RETURN_IF_ERROR(SaveHypernet(o.output_dir, hypernet, tokenizer_json_path));
  // The special tokens of the checkpoint's tokenizer are what its config files say.
  for (const char* name : {"tokenizer_config.json", "special_tokens_map.json"}) {
    const fs::path from = fs::path(o.base_dir) / name;
    std::error_code error;
    if (fs::exists(from))
      fs::copy_file(from, fs::path(o.output_dir) / name, fs::copy_options::overwrite_existing,
                    error);
    if (error)
      return absl::InternalError(absl::StrCat("copying ", from.string(), ": ", error.message()));
  }
  RETURN_IF_ERROR(WriteSafetensors(o.output_dir + "/optimizer.safetensors", optimizer.State()));
  for (size_t k = 0; k < sampler_states.size(); ++k) {
    RETURN_IF_ERROR(
        WriteStringToFile(SamplerStatePath(o.output_dir, static_cast<int64_t>(k) / workers,
                                           static_cast<int64_t>(k) % workers),
                          sampler_states[k]));
  }
  RETURN_IF_ERROR(WriteHypernetLossCurve(o.output_dir + "/loss_curve.png", state.history));
  return WriteRunState(o.output_dir, state, OptionsToJson(o), o.seed);
}

absl::Status CheckOptions(const HypernetTrainOptions& o) {
  if (o.steps <= 0 || o.batch_size <= 0 || o.seq_len < 2 || o.mimick_steps >= o.steps ||
      o.log_every <= 0 || o.save_every <= 0 || o.eval_every <= 0) {
    return absl::InvalidArgumentError(
        "--steps, --batch_size, --log_every, --save_every and --eval_every must be positive, "
        "--seq_len >= 2, --mimick_steps < --steps");
  }
  return absl::OkStatus();
}

// The interval's progress line and history entry.
void LogInterval(const HypernetTrainOptions& o, int64_t done, const StepStats& stats, double lr,
                 double seconds, int64_t interval_tokens, double cpu_ms, double wait_ms,
                 bool mimick, bool root, const RunClock& clock, RunState* state) {
  const double loss = mimick ? stats.aux : stats.lm_nats + o.aux_weight * stats.aux;
  const double tokens_per_second = interval_tokens / std::max(seconds, 1e-9);
  const double eta = (o.steps - done) * seconds / std::max<int64_t>(1, stats.steps);
  if (root) {
    std::cout << absl::StrFormat(
                     "step %d/%d%s | loss %.4f | lm %.4f | aux %.4f | lr %.2e | grad_norm %.3f "
                     "| %.0f tok/s | %.1f ms/step | cpu %.0f ms/batch | wait %.1f ms/step | "
                     "elapsed %s | eta %s",
                     done, o.steps, mimick ? " (mimick)" : "", loss, stats.lm_nats, stats.aux, lr,
                     stats.grad_norm, tokens_per_second,
                     1e3 * seconds / std::max<int64_t>(1, stats.steps), cpu_ms, wait_ms,
                     FormatDuration(clock.Elapsed()), FormatDuration(eta))
              << std::endl;
  }
  state->history["train"].push_back({{"step", done},
                                     {"loss", loss},
                                     {"lm_loss", stats.lm_nats},
                                     {"aux_loss", stats.aux},
                                     {"mimick", mimick},
                                     {"lr", lr},
                                     {"grad_norm", stats.grad_norm},
                                     {"tokens_seen", state->tokens_seen},
                                     {"tokens_per_second", tokens_per_second},
                                     {"cpu_ms_per_batch", cpu_ms},
                                     {"wait_ms_per_step", wait_ms}});
}

// Shards per step and data workers per shard: the checkpoint's when resuming (the batch stream
// depends on both), else the options' (or their defaults). Recorded in `extra`.
struct StreamLayout {
  int64_t shards = 1, workers = 1;
};
absl::StatusOr<StreamLayout> ResolveLayout(const HypernetTrainOptions& o, bool resumed,
                                           int64_t world, json* extra) {
  StreamLayout layout;
  layout.shards = extra->value("shards", o.shards > 0 ? o.shards : o.distributed.world_size);
  if (resumed && o.shards > 0 && o.shards != layout.shards) {
    return absl::InvalidArgumentError(absl::StrCat(
        o.output_dir, " was trained with ", layout.shards, " shards per step, not --shards=",
        o.shards, " (the batch of a step must stay the same to resume)"));
  }
  if (layout.shards % world != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(layout.shards, " shards per step do not split over ", world, " ranks"));
  }
  layout.workers =
      extra->value("data_workers", o.data_workers > 0 ? o.data_workers : DefaultDataWorkers(world));
  (*extra)["shards"] = layout.shards;
  (*extra)["data_workers"] = layout.workers;
  return layout;
}

// This rank's shards (rank, rank + world, …), each built by its data workers with one sampler
// apiece (restored from the checkpoint when resuming), from step `first` on.
struct LocalShards {
  std::vector<int64_t> ids;
  std::vector<std::unique_ptr<BatchPrefetcher>> prefetchers;
};
absl::StatusOr<LocalShards> StartLocalShards(const StreamInputs& in,
                                             const TokenizerSamplerOptions& sampler_options,
                                             const Communicator& comm, int64_t shards, bool resumed,
                                             int64_t first) {
  const HypernetTrainOptions& o = *in.options;
  LocalShards local;
  for (int64_t shard = comm.rank(); shard < shards; shard += comm.world_size()) {
    std::vector<std::shared_ptr<TokenizerSampler>> samplers;
    for (int64_t w = 0; w < in.workers; ++w) {
      ASSIGN_OR_RETURN(
          std::shared_ptr<TokenizerSampler> sampler,
          TokenizerSampler::Create(sampler_options, WorkerSeed(ShardSeed(o.seed, shard), w)));
      if (resumed) {
        ASSIGN_OR_RETURN(std::string saved,
                         ReadFileToString(SamplerStatePath(o.output_dir, shard, w)));
        RETURN_IF_ERROR(sampler->RestoreState(saved));
      }
      samplers.push_back(std::move(sampler));
    }
    local.ids.push_back(shard);
    local.prefetchers.push_back(StartShard(in, shard, std::move(samplers), first));
  }
  return local;
}

// Validation at step `done`, printed; the history entry.
json ValidateAndPrint(const Hypernet& hypernet, Backbone& backbone,
                      const std::vector<ZettBatch>& validation, at::ScalarType dtype,
                      at::Device device, int64_t done) {
  json result = Validate(hypernet, backbone, validation, dtype, device);
  std::cout << absl::StrFormat(
                   "valid step %d | loss %.4f | aux %.4f | %.4f bits/byte | %.4f tokens/byte", done,
                   result["loss"].get<double>(), result["aux_loss"].get<double>(),
                   result["bits_per_byte"].get<double>(), result["tokens_per_byte"].get<double>())
            << std::endl;
  result["step"] = done;
  return result;
}

// The sampler states of this rank's streams go to rank 0, which fills `sampler_states` (indexed
// shard * workers + worker) with every rank's.
absl::Status GatherSamplerStates(Communicator& comm, const std::vector<int64_t>& local_shards,
                                 int64_t workers, int64_t done,
                                 std::vector<std::string>* sampler_states) {
  std::vector<std::pair<int64_t, std::string>> mine;
  for (int64_t shard : local_shards) {
    for (int64_t w = 0; w < workers; ++w) {
      const int64_t k = shard * workers + w;
      mine.emplace_back(k, (*sampler_states)[k]);
    }
  }
  ASSIGN_OR_RETURN(
      std::vector<std::string> packed,
      comm.GatherToRoot(absl::StrCat("sampler_states/", done), PackStreamStates(mine)));
  if (!comm.is_root()) return absl::OkStatus();
  for (const std::string& p : packed) RETURN_IF_ERROR(UnpackStreamStates(p, sampler_states));
  return absl::OkStatus();
}

// Records trace_steps steps with the Kineto profiler on rank 0, after 20 steps that capture
// the CUDA graphs and warm the allocator, so the trace shows the steady-state step.
class StepTrace {
 public:
  StepTrace(const HypernetTrainOptions& o, int64_t first_step, bool root)
      : enabled_(root && o.trace_steps > 0),
        from_(first_step + 20),
        to_(from_ + o.trace_steps),
        file_(o.trace_file) {}

  absl::Status BeforeStep(int64_t step) const {
    return enabled_ && step == from_ ? StartKernelTrace() : absl::OkStatus();
  }

  absl::Status AfterStep(int64_t done, const at::Device& device) const {
    if (!enabled_ || done != to_) return absl::OkStatus();
    if (device.is_cuda()) torch::cuda::synchronize();  // the steps' kernels are in the trace
    RETURN_IF_ERROR(StopKernelTrace(file_));
    std::cout << "trace: steps " << from_ + 1 << ".." << to_ << " in " << file_ << std::endl;
    return absl::OkStatus();
  }

 private:
  bool enabled_;
  int64_t from_, to_;
  std::string file_;
};

// This step's batch of every local shard, in shard order.
absl::StatusOr<std::vector<ZettBatch>> NextBatches(
    std::vector<std::unique_ptr<BatchPrefetcher>>& prefetchers) {
  std::vector<ZettBatch> batches;
  for (auto& prefetcher : prefetchers) {
    ASSIGN_OR_RETURN(ZettBatch batch, prefetcher->Next());
    batches.push_back(std::move(batch));
  }
  return batches;
}

// Moves each batch's sampler state (present on the steps a save needs it) into the slot of its
// (shard, worker), where the next save finds it.
void KeepSamplerStates(const std::vector<int64_t>& local_shards, int64_t workers,
                       std::vector<ZettBatch>* batches, std::vector<std::string>* sampler_states) {
  for (size_t i = 0; i < batches->size(); ++i) {
    ZettBatch& batch = (*batches)[i];
    if (batch.sampler_state.empty()) continue;
    (*sampler_states)[local_shards[i] * workers + batch.step % workers] =
        std::move(batch.sampler_state);
  }
}

// --dtype (the backbone) and --hypernet_dtype (auto = bf16 on CUDA, fp32 on the CPU), and
// --fused_cross_entropy.
absl::StatusOr<StepPrecision> ResolvePrecision(const HypernetTrainOptions& o, bool cuda) {
  StepPrecision precision;
  precision.backbone = cuda ? at::kBFloat16 : at::kFloat;
  if (o.dtype != "auto") {
    ASSIGN_OR_RETURN(precision.backbone, ParseDtype(o.dtype));
  }
  precision.hypernet = cuda ? at::kBFloat16 : at::kFloat;
  if (o.hypernet_dtype != "auto") {
    ASSIGN_OR_RETURN(precision.hypernet, ParseDtype(o.hypernet_dtype));
  }
  precision.cross_entropy =
      o.fused_cross_entropy ? CrossEntropyKernel::kAuto : CrossEntropyKernel::kReference;
  return precision;
}

ZettStepOptions StepOptions(const HypernetTrainOptions& o, int64_t shards,
                            const StepPrecision& precision) {
  ZettStepOptions step;
  step.aux_weight = o.aux_weight;
  step.grad_clip = o.grad_clip;
  step.shards = shards;
  step.precision = precision;
  step.cuda_graph = o.cuda_graph;
  step.flat_cast = o.flat_cast;
  return step;
}

absl::Status Train(const HypernetTrainOptions& o) {
  RETURN_IF_ERROR(CheckOptions(o));
  ASSIGN_OR_RETURN(const bool cuda, UseCuda(o.device));
  const at::Device device = RankDevice(cuda, o.distributed);
  std::optional<c10::DeviceGuard> device_guard;  // this rank's GPU is the current one
  if (cuda) device_guard.emplace(device);
  ScopedSideStream stream(device);  // capture needs a side stream; everything runs on it
  if (cuda) at::globalContext().setAllowTF32CuBLAS(true);  // the hypernet's fp32 matmuls
  ASSIGN_OR_RETURN(const StepPrecision precision, ResolvePrecision(o, cuda));
  const at::ScalarType dtype = precision.backbone;
  const int64_t text_bytes = o.text_bytes > 0 ? o.text_bytes : 4 * o.seq_len;
  ASSIGN_OR_RETURN(std::unique_ptr<Communicator> comm, Communicator::Create(o.distributed, device));
  const bool root = comm->is_root();  // logs, validates and saves
  const int64_t world = comm->world_size();

  ASSIGN_OR_RETURN(Backbone backbone, LoadFrozenBackbone(o.base_dir, device, dtype));
  std::string tokenizer_json_path;
  ASSIGN_OR_RETURN(auto original, LoadOriginalTokenizer(o.base_dir, &tokenizer_json_path));
  ZettBatchOptions batch_options;
  batch_options.seq_len = o.seq_len;
  batch_options.max_len = o.hn_surface_maxlen;
  // k pieces + the original's special tokens, padded to a multiple of 128 rows.
  const int64_t specials = static_cast<int64_t>(original->AllSpecialTokens().size());
  batch_options.vocab_rows = (o.sample_vocab_size + specials + 127) / 128 * 128;
  ASSIGN_OR_RETURN(auto builder, ZettBatchBuilder::Create(*original, backbone.bos_id,
                                                          backbone.pad_id, batch_options));
  const auto& converted = builder->decomposer().original_vocabulary();
  if (converted.original_size > backbone.source_embeddings.size(0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        o.base_dir, ": tokenizer has ", converted.original_size, " ids but the model only ",
        backbone.source_embeddings.size(0), " embedding rows"));
  }

  // Resume state; shards and data workers are the checkpoint's unless given.
  RETURN_IF_ERROR(CreateOutputDir(o.output_dir));
  ASSIGN_OR_RETURN(std::optional<RunState> resumed, ReadRunState(o.output_dir, o.resume));
  RunState state = resumed.value_or(RunState());
  ASSIGN_OR_RETURN(const StreamLayout layout,
                   ResolveLayout(o, resumed.has_value(), world, &state.extra));
  const int64_t shards = layout.shards, workers = layout.workers;

  ASSIGN_OR_RETURN(Hypernet hypernet,
                   MakeHypernet(o, resumed.has_value(), backbone, *builder, device));
  std::vector<std::pair<std::string, at::Tensor>> trainable = TrainableParameters(hypernet);
  int64_t parameters = 0;
  for (const auto& [name, t] : trainable) parameters += t.numel();
  AdamWOptions adam;
  adam.beta2 = o.beta2;
  adam.weight_decay = o.weight_decay;
  FlatAdamW optimizer(trainable, adam);
  if (resumed) {
    ASSIGN_OR_RETURN(TensorMap optimizer_state,
                     ReadSafetensors(o.output_dir + "/optimizer.safetensors"));
    RETURN_IF_ERROR(optimizer.LoadState(optimizer_state));
    if (root) std::cout << "resuming from " << o.output_dir << " at step " << state.step << "\n";
  }
  // Identical parameters on every rank (loaded or initialised the same way; this makes sure).
  RETURN_IF_ERROR(comm->Broadcast(hypernet.TrainableParameters()));

  // This rank's shards (rank, rank + world, …), each with one sampler per data worker.
  TokenizerSamplerOptions sampler_options;
  sampler_options.vocab_size = o.sample_vocab_size;
  sampler_options.queue_batches = o.sampler_queue_batches;
  sampler_options.noise_mean = o.noise_mean;
  sampler_options.noise_std = o.noise_std;
  ASSIGN_OR_RETURN(TrainingTexts texts, TrainingTexts::Load(o.train_files));
  const int64_t end = o.stop_after > 0 ? std::min(o.stop_after, o.steps) : o.steps;
  const StreamInputs stream_inputs{&o, &texts, builder.get(), text_bytes, end, workers};
  ASSIGN_OR_RETURN(LocalShards local, StartLocalShards(stream_inputs, sampler_options, *comm,
                                                       shards, resumed.has_value(), state.step));
  const std::vector<int64_t>& local_shards = local.ids;
  std::vector<std::unique_ptr<BatchPrefetcher>>& prefetchers = local.prefetchers;
  std::vector<ZettBatch> validation;
  if (root) {
    ASSIGN_OR_RETURN(validation, BuildValidation(o, *builder, sampler_options, text_bytes));
    std::cout << absl::StrFormat(
                     "hypernet: %d trainable parameters (H %d, %d layers, %d heads, L %d, %s) on "
                     "%s, computing in %s; backbone %s; %d training documents in %d files; k = %d "
                     "(%d vocabulary rows); %d validation batches; %d shards of %d texts per step "
                     "on %d rank(s)%s; %d data workers per shard; identity every %d steps",
                     parameters, hypernet.config().hidden_size(), hypernet.config().hn_n_layers,
                     hypernet.config().num_attention_heads(), hypernet.config().hn_surface_maxlen,
                     o.residual ? "residual" : "plain", device.str(), DtypeName(precision.hypernet),
                     DtypeName(dtype), texts.documents(), texts.names().size(), o.sample_vocab_size,
                     batch_options.vocab_rows, validation.size(), shards, o.batch_size, world,
                     world > 1 ? " (" + comm->backend() + ")" : "", workers, o.identity_every)
              << std::endl;
  }

  std::optional<HistoryEvents> events;  // TensorBoard scalars, written by rank 0
  if (root) {
    ASSIGN_OR_RETURN(HistoryEvents opened, HistoryEvents::Open(o.output_dir, state.history));
    events.emplace(std::move(opened));
  }

  ZettStep step(hypernet, backbone.model, backbone.source_embeddings, optimizer,
                StepOptions(o, shards, precision), batch_options, o.batch_size, device);

  RunClock clock(state.elapsed_seconds);
  std::vector<std::string> sampler_states(shards * workers);
  int64_t interval_tokens = 0;
  double interval_cpu = 0, wait_before = 0;
  auto wait_seconds = [&] {
    double wait = 0;
    for (const auto& p : prefetchers) wait += p->wait_seconds();
    return wait;
  };
  const StepTrace trace(o, state.step, root);
  for (int64_t s = state.step; s < end; ++s) {
    RETURN_IF_ERROR(trace.BeforeStep(s));
    ASSIGN_OR_RETURN(std::vector<ZettBatch> batches, NextBatches(prefetchers));
    int64_t local_tokens = 0;
    for (const ZettBatch& batch : batches) {
      local_tokens += batch.tokens;
      interval_cpu += batch.cpu_seconds;
    }
    const bool mimick = batches.front().mimick;
    // The step's loss is that of all shards as one batch: LM nats over all ranks' labels.
    step.SetTokenCount(local_tokens);
    if (world > 1) RETURN_IF_ERROR(comm->AllReduceSum({step.count()}));
    for (const ZettBatch& batch : batches) RETURN_IF_ERROR(step.AccumulateGradients(batch));
    if (world > 1) RETURN_IF_ERROR(comm->AllReduceSum({optimizer.flat_gradients()}));
    const double lr = LearningRate(o, s);
    step.Update(lr);
    RETURN_IF_ERROR(trace.AfterStep(s + 1, device));
    KeepSamplerStates(local_shards, workers, &batches, &sampler_states);
    // Tokens over all ranks; one count per rank per step (host side, no device round trip).
    interval_tokens += local_tokens * world;
    state.tokens_seen += local_tokens * world;
    const int64_t done = s + 1;
    state.step = done;
    if (done % o.log_every == 0 || done == end) {
      if (root && done == o.log_every) std::cout << "step: " << step.GraphStatus() << std::endl;
      // Each rank summed its share of the step's loss: the step's is their sum.
      if (world > 1) RETURN_IF_ERROR(comm->AllReduceSum(step.loss_sums()));
      const StepStats stats = step.TakeStats();
      if (!std::isfinite(stats.lm_nats) || !std::isfinite(stats.aux)) {
        return absl::InternalError(absl::StrCat("loss is not finite at step ", done));
      }
      const double wait = wait_seconds() - wait_before;
      wait_before += wait;
      LogInterval(o, done, stats, lr, clock.Lap(), interval_tokens,
                  1e3 * interval_cpu / std::max<int64_t>(1, stats.steps * batches.size()),
                  1e3 * wait / std::max<int64_t>(1, stats.steps), mimick, root, clock, &state);
      interval_tokens = 0;
      interval_cpu = 0;
    }
    if (root && !validation.empty() && (done % o.eval_every == 0 || done == o.steps)) {
      state.history["valid"].push_back(
          ValidateAndPrint(hypernet, backbone, validation, dtype, device, done));
    }
    if (events && (done % o.log_every == 0 || done == end)) {
      RETURN_IF_ERROR(events->Update(state.history));
    }
    if (done % o.save_every == 0 || done == end) {
      // Every rank's sampler states reach rank 0, which saves.
      RETURN_IF_ERROR(GatherSamplerStates(*comm, local_shards, workers, done, &sampler_states));
      if (root) {
        state.elapsed_seconds = clock.Elapsed();
        RETURN_IF_ERROR(
            Save(o, hypernet, optimizer, tokenizer_json_path, sampler_states, workers, state));
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
