#include "core/train/pretrain.h"

#include <c10/core/GradMode.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <limits>
#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/compat/device_choice.h"
#include "core/compat/torch_compat.h"
#include "core/io/json_file.h"
#include "core/io/safetensors.h"
#include "core/model/backbone.h"
#include "core/model/llama.h"
#include "core/model/state_dict.h"
#include "core/train/command_line.h"
#include "core/train/cross_entropy.h"
#include "core/train/flat_adamw.h"
#include "core/train/history_events.h"
#include "core/train/init_from.h"
#include "core/train/lr_schedule.h"
#include "core/train/run_plots.h"
#include "core/train/run_state.h"
#include "core/train/sentencepiece_encoder.h"
#include "core/train/text_corpus.h"
#include "core/util/status_macros.h"

namespace zett {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

json OptionsToJson(const PretrainOptions& o) {
  return {{"train_files", o.train_files},
          {"valid_files", o.valid_files},
          {"tokenizer_dir", o.tokenizer_dir},
          {"init_from", o.init_from},
          {"hidden_size", o.hidden_size},
          {"num_hidden_layers", o.num_hidden_layers},
          {"num_attention_heads", o.num_attention_heads},
          {"num_key_value_heads", o.num_key_value_heads},
          {"intermediate_size", o.intermediate_size},
          {"steps", o.steps},
          {"batch_size", o.batch_size},
          {"seq_len", o.seq_len},
          {"lr", o.lr},
          {"warmup_steps", o.warmup_steps},
          {"min_lr_ratio", o.min_lr_ratio},
          {"weight_decay", o.weight_decay},
          {"beta2", o.beta2},
          {"grad_clip", o.grad_clip},
          {"language_alpha", o.language_alpha},
          {"seed", o.seed}};
}

// Mean next-token cross-entropy (nats) per validation stream, and bits per byte estimated with
// the stream's byte/token ratio.
json Validate(LlamaForCausalLM& model, const std::vector<TokenStream>& streams,
              const PretrainOptions& o, const at::Device& device) {
  c10::NoGradGuard no_grad;
  json out = json::object();
  double loss_sum = 0;
  int64_t counted = 0;
  for (const auto& stream : streams) {
    at::Tensor windows = EvaluationWindows(stream, o.seq_len + 1, o.eval_windows);
    if (windows.size(0) == 0) continue;
    double nats = 0;
    int64_t tokens = 0;
    for (int64_t start = 0; start < windows.size(0); start += o.batch_size) {
      auto batch =
          windows.narrow(0, start, std::min(o.batch_size, windows.size(0) - start)).to(device);
      DecoderInputs in;
      in.input_ids = batch.narrow(1, 0, o.seq_len);
      auto logits = model(in);
      auto targets = batch.narrow(1, 1, o.seq_len);
      nats += CrossEntropySum(logits.reshape({-1, logits.size(-1)}), targets.reshape({-1}))
                  .item<double>();
      tokens += targets.numel();
    }
    const double loss = nats / tokens;
    const double bits_per_byte = loss / std::log(2.0) * static_cast<double>(stream.tokens.size()) /
                                 static_cast<double>(std::max<int64_t>(1, stream.bytes));
    out[stream.name] = {{"loss", loss}, {"bits_per_byte", bits_per_byte}};
    loss_sum += loss;
    ++counted;
  }
  if (counted > 0) out["mean_loss"] = loss_sum / counted;
  return out;
}

absl::Status CopyTokenizerFiles(const std::string& from, const std::string& to) {
  for (const char* name :
       {"tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json"}) {
    const fs::path source = fs::path(from) / name;
    if (!fs::exists(source)) continue;
    std::error_code error;
    fs::copy_file(source, fs::path(to) / name, fs::copy_options::overwrite_existing, error);
    if (error) {
      return absl::InternalError(absl::StrCat("copying ", source.string(), ": ", error.message()));
    }
  }
  return absl::OkStatus();
}

struct Checkpoint {
  const PretrainOptions& options;
  const DecoderConfig& config;
  at::ScalarType save_dtype;
  GenerationConfig generation;
};

// Files are written model-first and trainer_state.json last: a run interrupted mid-save resumes
// from the previous complete state.
absl::Status Save(const Checkpoint& c, LlamaForCausalLM& model, const FlatAdamW& optimizer,
                  RunState state) {
  const std::string& dir = c.options.output_dir;
  DecoderConfig config = c.config;
  config.torch_dtype = DtypeName(c.save_dtype);
  RETURN_IF_ERROR(WriteJsonFile(dir + "/config.json", DecoderConfigToJson(config)));
  RETURN_IF_ERROR(
      WriteJsonFile(dir + "/generation_config.json", GenerationConfigToJson(c.generation)));
  // transformers refuses safetensors files without {"format": "pt"}.
  RETURN_IF_ERROR(WriteSafetensors(dir + "/model.safetensors", StateDict(*model, c.save_dtype),
                                   {{"format", "pt"}}));
  RETURN_IF_ERROR(WriteSafetensors(dir + "/optimizer.safetensors", optimizer.State()));
  RETURN_IF_ERROR(CopyTokenizerFiles(c.options.tokenizer_dir, dir));
  RETURN_IF_ERROR(WritePretrainLossCurve(dir + "/loss_curve.png", state.history));
  state.step = optimizer.step();
  return WriteRunState(dir, state, OptionsToJson(c.options), c.options.seed);
}

absl::StatusOr<std::vector<TokenStream>> LoadStreams(const std::string& spec,
                                                     const SentencePieceEncoder& encoder,
                                                     const PretrainOptions& o, const char* what) {
  ASSIGN_OR_RETURN(auto paths, ExpandFileList(spec));
  // The cache key covers the tokenizer file and the BOS/EOS framing.
  std::error_code error;
  const std::string model_path = o.tokenizer_dir + "/tokenizer.model";
  const std::string tokenizer_key =
      absl::StrCat(fs::absolute(model_path).string(), "|", fs::file_size(model_path, error), "|",
                   fs::last_write_time(model_path, error).time_since_epoch().count(), "|",
                   encoder.bos_id(), "|", encoder.eos_id());
  ASSIGN_OR_RETURN(auto streams,
                   TokenizeFiles(paths, encoder, encoder.bos_id(), encoder.eos_id(),
                                 o.tokenizer_threads, o.token_cache_dir, tokenizer_key));
  for (const auto& s : streams) {
    std::cout << absl::StrFormat(
        "%s %-10s %9d docs %11d tokens %11d bytes (%.2f bytes/token)\n", what, s.name, s.documents,
        s.tokens.size(), s.bytes,
        static_cast<double>(s.bytes) / std::max<size_t>(1, s.tokens.size()));
  }
  return streams;
}

absl::Status Pretrain(const PretrainOptions& o) {
  // Device and dtype.
  ASSIGN_OR_RETURN(const bool cuda, UseCuda(o.device));
  const at::Device device = cuda ? at::Device(at::kCUDA) : at::Device(at::kCPU);
  at::ScalarType dtype = cuda ? at::kBFloat16 : at::kFloat;
  if (o.dtype != "auto") {
    ASSIGN_OR_RETURN(dtype, ParseDtype(o.dtype));
  }
  ASSIGN_OR_RETURN(at::ScalarType save_dtype, ParseDtype(o.save_dtype));
  if (o.steps <= 0 || o.batch_size <= 0 || o.seq_len <= 0) {
    return absl::InvalidArgumentError("--steps, --batch_size and --seq_len must be positive");
  }

  // Tokenizer and text.
  ASSIGN_OR_RETURN(SentencePieceEncoder encoder,
                   SentencePieceEncoder::Load(o.tokenizer_dir + "/tokenizer.model"));
  ASSIGN_OR_RETURN(auto train, LoadStreams(o.train_files, encoder, o, "train"));
  std::vector<TokenStream> valid;
  if (!o.valid_files.empty()) {
    ASSIGN_OR_RETURN(valid, LoadStreams(o.valid_files, encoder, o, "valid"));
  }
  WindowSampler sampler(&train, o.seq_len + 1, o.language_alpha);
  for (size_t i = 0; i < train.size(); ++i) {
    std::cout << absl::StrFormat("sampling %-10s p=%.3f\n", train[i].name,
                                 sampler.probabilities()[i]);
  }
  bool any = false;
  for (double p : sampler.probabilities()) any = any || p > 0;
  if (!any) {
    return absl::InvalidArgumentError(
        absl::StrCat("no training file has more than --seq_len+1 = ", o.seq_len + 1, " tokens"));
  }

  // Model and optimizer.
  DecoderConfig config = PretrainModelConfig(o, encoder.vocab_size(), encoder.bos_id(),
                                             encoder.eos_id(), encoder.pad_id());
  if (!o.init_from.empty()) {
    ASSIGN_OR_RETURN(config, CheckInitConfig(o.init_from, config));
    RETURN_IF_ERROR(CheckInitTokenizer(o.init_from, o.tokenizer_dir));
  }
  at::manual_seed(o.seed);
  LlamaForCausalLM model(config);
  model->InitWeights();
  // Before the optimizer copies its fp32 master weights; a resumed run overwrites them anyway.
  if (!o.init_from.empty()) {
    RETURN_IF_ERROR(LoadInitWeights(o.init_from, model));
    std::cout << "initialized from " << o.init_from << "\n";
  }
  model->to(device, dtype);
  int64_t parameters = 0;
  std::vector<std::pair<std::string, at::Tensor>> named;
  for (auto& item : model->named_parameters()) {
    named.emplace_back(item.key(), item.value());
    parameters += item.value().numel();
  }
  AdamWOptions adam;
  adam.beta2 = o.beta2;
  adam.weight_decay = o.weight_decay;
  FlatAdamW optimizer(named, adam);
  std::cout << absl::StrFormat(
      "model: %d parameters (vocab %d, d %d, %d layers, %d/%d heads, ffn %d) on %s in %s\n",
      parameters, config.vocab_size, config.hidden_size, config.num_hidden_layers,
      config.num_attention_heads, config.num_key_value_heads, config.intermediate_size,
      device.str(), DtypeName(dtype));

  // Resume.
  RETURN_IF_ERROR(CreateOutputDir(o.output_dir));
  ASSIGN_OR_RETURN(std::optional<RunState> resumed, ReadRunState(o.output_dir, o.resume));
  RunState state = resumed.value_or(RunState());
  if (resumed) {
    ASSIGN_OR_RETURN(TensorMap optimizer_state,
                     ReadSafetensors(o.output_dir + "/optimizer.safetensors"));
    RETURN_IF_ERROR(optimizer.LoadState(optimizer_state));
    std::cout << "resuming from " << o.output_dir << " at step " << optimizer.step() << "\n";
  }
  json& history = state.history;
  ASSIGN_OR_RETURN(HistoryEvents events, HistoryEvents::Open(o.output_dir, history));

  GenerationConfig generation;
  if (encoder.bos_id() >= 0) generation.bos_token_id = encoder.bos_id();
  if (encoder.eos_id() >= 0) generation.eos_token_ids = {encoder.eos_id()};
  if (encoder.pad_id() >= 0) generation.pad_token_id = encoder.pad_id();
  const Checkpoint checkpoint{o, config, save_dtype, generation};
  WarmupCosineSchedule schedule{o.lr, o.warmup_steps, o.steps, o.min_lr_ratio};
  const int64_t end = o.stop_after > 0 ? std::min(o.stop_after, o.steps) : o.steps;
  const int64_t tokens_per_step = o.batch_size * o.seq_len;

  RunClock clock(state.elapsed_seconds);
  int64_t interval_steps = 0;
  at::Tensor interval_loss;
  auto save = [&] {
    state.elapsed_seconds = clock.Elapsed();
    return Save(checkpoint, model, optimizer, state);
  };
  for (int64_t step = optimizer.step(); step < end; ++step) {
    at::Tensor batch = sampler.Batch(o.batch_size, o.seed, step).to(device);  // [B, T+1]
    DecoderInputs in;
    in.input_ids = batch.narrow(1, 0, o.seq_len);  // [B, T]
    at::Tensor logits = model(in);                 // [B, T, V]
    at::Tensor targets = batch.narrow(1, 1, o.seq_len).reshape({-1});
    at::Tensor loss = CrossEntropySum(logits.reshape({-1, logits.size(-1)}), targets) /
                      static_cast<double>(targets.numel());
    loss.backward();
    const at::Tensor grad_norm = optimizer.ClipGradNorm(o.grad_clip);
    const double lr = schedule.At(step);
    optimizer.Step(lr);
    optimizer.ZeroGrad();
    state.tokens_seen += tokens_per_step;
    // Summed on the device: the host reads the loss only when it logs.
    interval_loss = interval_steps == 0 ? loss.detach().to(at::kDouble)
                                        : interval_loss + loss.detach().to(at::kDouble);
    ++interval_steps;

    const int64_t done = step + 1;
    if (done % o.log_every == 0 || done == end) {
      const double seconds = clock.Lap();
      const double mean_loss = interval_loss.item<double>() / interval_steps;
      const double tokens_per_second = interval_steps * tokens_per_step / std::max(seconds, 1e-9);
      const double eta = (o.steps - done) * seconds / interval_steps;
      std::cout << absl::StrFormat(
                       "step %d/%d | loss %.4f | lr %.2e | grad_norm %.3f | %.0f tok/s | "
                       "elapsed %s | eta %s",
                       done, o.steps, mean_loss, lr, grad_norm.item<double>(), tokens_per_second,
                       FormatDuration(clock.Elapsed()), FormatDuration(eta))
                << std::endl;
      history["train"].push_back({{"step", done},
                                  {"loss", mean_loss},
                                  {"lr", lr},
                                  {"grad_norm", grad_norm.item<double>()},
                                  {"tokens_per_second", tokens_per_second}});
      interval_steps = 0;
    }
    if (!valid.empty() && (done % o.eval_every == 0 || done == o.steps)) {
      json result = Validate(model, valid, o, device);
      std::string line =
          absl::StrFormat("valid step %d | mean loss %.4f |", done, result.value("mean_loss", 0.0));
      for (const auto& [name, v] : result.items()) {
        if (name == "mean_loss") continue;
        absl::StrAppendFormat(&line, " %s %.3f (%.3f bpb)", name, v["loss"].get<double>(),
                              v["bits_per_byte"].get<double>());
      }
      std::cout << line << std::endl;
      result["step"] = done;
      history["valid"].push_back(result);
    }
    if (done % o.save_every == 0 || done == end) {
      RETURN_IF_ERROR(save());
      std::cout << "saved " << o.output_dir << " at step " << done << std::endl;
    }
    RETURN_IF_ERROR(events.Update(history));
  }
  if (optimizer.step() >= end && !fs::exists(o.output_dir + "/model.safetensors")) {
    RETURN_IF_ERROR(save());
  }
  return absl::OkStatus();
}

}  // namespace

DecoderConfig PretrainModelConfig(const PretrainOptions& o, int64_t vocab_size, int bos_id,
                                  int eos_id, int pad_id) {
  DecoderConfig c;
  c.architecture = Architecture::kLlama;
  c.vocab_size = vocab_size;
  c.hidden_size = o.hidden_size;
  c.intermediate_size = o.intermediate_size;
  c.num_hidden_layers = o.num_hidden_layers;
  c.num_attention_heads = o.num_attention_heads;
  c.num_key_value_heads = o.num_key_value_heads;
  c.head_dim = o.hidden_size / o.num_attention_heads;
  c.rms_norm_eps = 1e-5;
  c.rope_theta = o.rope_theta;
  c.max_position_embeddings = o.seq_len;
  c.tie_word_embeddings = false;
  c.sliding_window_per_layer.assign(o.num_hidden_layers, 0);
  if (bos_id >= 0) c.bos_token_id = bos_id;
  if (eos_id >= 0) c.eos_token_id = eos_id;
  if (pad_id >= 0) c.pad_token_id = pad_id;
  return c;
}

absl::Status RunPretrain(const PretrainOptions& options) {
  if (options.hidden_size % options.num_attention_heads != 0 ||
      options.num_attention_heads % options.num_key_value_heads != 0) {
    return absl::InvalidArgumentError(
        "--num_attention_heads must divide --hidden_size and be a multiple of "
        "--num_key_value_heads");
  }
  try {
    return Pretrain(options);
  } catch (const c10::Error& e) {
    return absl::InternalError(
        absl::StrCat("pretrain: LibTorch error: ", e.what_without_backtrace()));
  }
}

}  // namespace zett
