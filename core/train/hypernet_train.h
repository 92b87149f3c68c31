// ZeTT hypernetwork training (docs/training.md), scaled to the bundled base LM.
// Per step: the batch texts join the tokenizer sampler's queue, a UnigramLM tokenizer is sampled,
// the batch is tokenized with it and its vocabulary decomposed with the original tokenizer (all
// on a background thread, one or more steps ahead); the hypernetwork predicts the whole sampled
// vocabulary's embeddings; the frozen backbone (bf16 on CUDA) runs with them; loss = causal LM
// cross-entropy + aux_weight × auxiliary loss. Optional MIMICK warm-up (mimick_steps > 0): the
// first steps only learn to reproduce original embeddings of sampled original tokens.
//
// output_dir holds a hypernetwork checkpoint (config.json, model.safetensors, tokenizer.json of
// the original) plus resumable trainer state: optimizer.safetensors (AdamW masters and moments),
// sampler_state*.txt (queue counts + RNG of every batch-building worker), trainer_state.json
// (step, options, history) and loss_curve.png. Every other random choice is a function of
// (seed, step). Batches are built by `data_workers` threads per shard, worker w building steps
// w, w + W, … with a sampler of its own; a run resumes with its checkpoint's W.
//
// Data parallel (docs/training.md): each step is `shards` batches of batch_size texts, each with
// its own sampled tokenizer and random stream (a function of (seed, step, shard)), spread over
// the ranks of `distributed` (shard k on rank k mod world size). Gradients are summed over the
// ranks (c10d all-reduce) with the LM loss normalised by the step's total label count, so N ranks
// make the update one process makes over all shards; rank 0 logs, validates and saves. The
// checkpoint holds one sampler state per shard (sampler_state.txt, sampler_state.<k>.txt) and no
// world size: any world size that divides the shards resumes it.
#ifndef ZETT_CORE_TRAIN_HYPERNET_TRAIN_H_
#define ZETT_CORE_TRAIN_HYPERNET_TRAIN_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "core/train/distributed.h"

namespace zett {

struct HypernetTrainOptions {
  std::string base_dir;     // HF model folder (config.json, model.safetensors, tokenizer.json
                            // or tokenizer.model): the frozen LM and the original tokenizer
  std::string train_files;  // comma-separated paths/globs, e.g. data/corpus/train/*.txt
  std::string valid_files;  // same; empty = no validation
  std::string output_dir;
  // A hypernetwork checkpoint to start from (its weights and rescalers; a fresh optimizer and
  // schedule), e.g. to continue a finished run with another recipe; empty: a new hypernetwork.
  // A run being resumed ignores it.
  std::string init_hypernet;
  // Hypernetwork (H = d and I = 2H when 0; heads = H / 64, at least 1, when 0).
  int64_t hn_n_layers = 3;
  int64_t hn_surface_maxlen = 7;
  int64_t hn_hidden_size = 0;
  int64_t hn_num_attention_heads = 0;
  bool residual = true;  // E = E_src[id_0] + alpha/sqrt(d)·head(h): one stage, no warm-up needed
  double residual_alpha = 1.0;
  // Tokenizer sampling: k pieces per sampled tokenizer (byte chars included).
  int64_t sample_vocab_size = 8192;
  int64_t sampler_queue_batches = 16;
  double noise_mean = 1e-5;
  double noise_std = 4.0;
  // Optimisation.
  int64_t steps = 3000;
  int64_t batch_size = 32;  // texts per shard
  int64_t shards = 0;       // batches per step over all ranks; 0 = world size (or the checkpoint's)
  int64_t seq_len = 256;
  int64_t text_bytes = 0;  // bytes per training text; 0 = 4 × seq_len
  // Pack rows that a text leaves short with further texts (BOS-separated), so a step's
  // positions are tokens, not padding. Validation batches are never packed.
  bool pack_texts = true;
  double lr = 3e-4;
  int64_t warmup_steps = 200;
  double min_lr_ratio = 0.1;
  double weight_decay = 0.01;
  double beta2 = 0.95;
  double grad_clip = 0.1;
  double aux_weight = 0.5;
  // Every identity_every-th step (0: never) trains on the original tokenizer itself instead of a
  // sampled one, so tokens the original has keep their rows (identity transfer).
  int64_t identity_every = 0;
  int64_t mimick_steps = 0;  // > 0: MIMICK warm-up stage (own linear warm-up to mimick_lr)
  double mimick_lr = 3e-4;
  int64_t mimick_tokens = 4096;
  double language_alpha = 0.3;  // language sampling ∝ documents^alpha
  uint64_t seed = 0;
  // Running.
  std::string device = "auto";  // auto = cuda when available
  std::string dtype = "auto";   // backbone dtype; auto = bfloat16 on cuda, float32 on cpu
  // The hypernetwork's compute dtype (its masters and AdamW stay float32): float32, bfloat16,
  // or auto = bfloat16 on cuda (the same loss per step, 8 % faster: docs/training.md), float32
  // on cpu.
  std::string hypernet_dtype = "auto";
  int64_t prefetch = 0;      // steps built ahead (0: 2 × data_workers)
  int64_t data_workers = 0;  // CPU threads building batches per shard (0: the cores, ≤ 16)
  bool cuda_graph = true;    // capture the step as CUDA graphs (CUDA only)
  // The LM loss as fused CUDA kernels (core/train/cross_entropy.h); false: the unfused op.
  bool fused_cross_entropy = true;
  bool flat_cast = true;  // mixed precision: one cast kernel for all parameters (ZettStepOptions)
  // > 0: record trace_steps steps (after 20 warm-up steps) with the Kineto profiler into
  // trace_file, a Chrome trace for scripts/bench/kernel_summary.py.
  int64_t trace_steps = 0;
  std::string trace_file;
  int64_t log_every = 10;
  int64_t eval_every = 250;
  int64_t save_every = 250;
  int64_t valid_tokenizers = 2;  // fixed sampled tokenizers for validation
  int64_t valid_texts_per_language = 4;
  bool resume = true;
  int64_t stop_after = 0;          // > 0: stop (after saving) at this step
  DistributedOptions distributed;  // world size 1: a single process
};

// Trains, printing a progress line every log_every steps (loss, LM loss, aux loss, lr, tokens/s,
// CPU time per batch, time the device waited for batches, ETA) and validation every eval_every
// steps.
absl::Status RunHypernetTrain(const HypernetTrainOptions& options);

}  // namespace zett

#endif  // ZETT_CORE_TRAIN_HYPERNET_TRAIN_H_
