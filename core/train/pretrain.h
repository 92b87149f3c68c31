// Base-LM pretraining: a small Llama-architecture model trained from per-language text with the
// original SentencePiece tokenizer, written as a Hugging Face model folder (config.json,
// generation_config.json, model.safetensors, the tokenizer files) plus resumable trainer state
// (trainer_state.json: step, seed, options, history; optimizer.safetensors: fp32 master
// weights and AdamW moments), loss_curve.png (redrawn at each save) and TensorBoard event files
// (events.out.tfevents.*, appended at each log line and validation).
#ifndef ZETT_CORE_TRAIN_PRETRAIN_H_
#define ZETT_CORE_TRAIN_PRETRAIN_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "core/model/hf_config.h"

namespace zett {

struct PretrainOptions {
  std::string train_files;    // comma-separated paths/globs, e.g. data/corpus/train/*.txt
  std::string valid_files;    // same; empty = no validation
  std::string tokenizer_dir;  // holds tokenizer.model (+ tokenizer.json etc., copied along)
  std::string output_dir;
  // A Hugging Face folder of the model the flags describe (same tokenizer) to start from instead
  // of a random init: fine-tuning (core/train/init_from.h). Empty: random init.
  std::string init_from;
  // Model (vocab_size comes from the tokenizer).
  int64_t hidden_size = 256;
  int64_t num_hidden_layers = 6;
  int64_t num_attention_heads = 4;
  int64_t num_key_value_heads = 2;
  int64_t intermediate_size = 576;
  double rope_theta = 10000.0;
  // Optimisation.
  int64_t steps = 2000;
  int64_t batch_size = 64;
  int64_t seq_len = 512;
  double lr = 2e-3;
  int64_t warmup_steps = 100;
  double min_lr_ratio = 0.1;
  double weight_decay = 0.1;
  double beta2 = 0.95;
  double grad_clip = 1.0;
  double language_alpha = 0.5;  // stream sampling ∝ tokens^alpha
  uint64_t seed = 0;
  // Running.
  std::string device = "auto";  // auto = cuda when available, else cpu
  std::string dtype = "auto";   // auto = bfloat16 on cuda, float32 on cpu
  std::string save_dtype = "bfloat16";
  int64_t log_every = 10;
  int64_t eval_every = 500;
  int64_t save_every = 500;
  int64_t eval_windows = 16;  // per validation file
  int64_t tokenizer_threads = 2;
  // Token streams are cached here (keyed by file, size, mtime and tokenizer); "" = no cache.
  std::string token_cache_dir = ".cache/zett-train/tokens";
  bool resume = true;      // continue from output_dir's trainer state when present
  int64_t stop_after = 0;  // > 0: stop (after saving) at this step — for tests and preemption
};

// The model config pretraining builds for a tokenizer of `vocab_size` pieces.
DecoderConfig PretrainModelConfig(const PretrainOptions& options, int64_t vocab_size, int bos_id,
                                  int eos_id, int pad_id);

// Trains, printing a progress line every log_every steps and validation losses (and
// bits per byte) every eval_every steps, saving every save_every steps and at the end.
absl::Status RunPretrain(const PretrainOptions& options);

}  // namespace zett

#endif  // ZETT_CORE_TRAIN_PRETRAIN_H_
