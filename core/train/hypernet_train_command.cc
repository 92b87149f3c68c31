#include "core/train/command_line.h"
#include "core/train/commands.h"
#include "core/train/hypernet_train.h"
#include "core/util/status_macros.h"

namespace zett {
namespace {

absl::StatusOr<HypernetTrainOptions> ParseOptions(const std::vector<std::string>& args) {
  ASSIGN_OR_RETURN(CommandLine flags, CommandLine::Parse(args));
  HypernetTrainOptions o;
  ASSIGN_OR_RETURN(o.base_dir, flags.GetRequiredString("base"));
  ASSIGN_OR_RETURN(o.train_files, flags.GetRequiredString("train_files"));
  o.valid_files = flags.GetString("valid_files", o.valid_files);
  ASSIGN_OR_RETURN(o.output_dir, flags.GetRequiredString("output_dir"));
  o.init_hypernet = flags.GetString("init_hypernet", o.init_hypernet);
  ASSIGN_OR_RETURN(o.hn_n_layers, flags.GetInt("hn_n_layers", o.hn_n_layers));
  ASSIGN_OR_RETURN(o.hn_surface_maxlen, flags.GetInt("hn_surface_maxlen", o.hn_surface_maxlen));
  ASSIGN_OR_RETURN(o.hn_hidden_size, flags.GetInt("hn_hidden_size", o.hn_hidden_size));
  ASSIGN_OR_RETURN(o.hn_num_attention_heads,
                   flags.GetInt("hn_num_attention_heads", o.hn_num_attention_heads));
  ASSIGN_OR_RETURN(o.residual, flags.GetBool("residual", o.residual));
  ASSIGN_OR_RETURN(o.residual_alpha, flags.GetDouble("residual_alpha", o.residual_alpha));
  ASSIGN_OR_RETURN(o.sample_vocab_size, flags.GetInt("sample_vocab_size", o.sample_vocab_size));
  ASSIGN_OR_RETURN(o.sampler_queue_batches,
                   flags.GetInt("sampler_queue_batches", o.sampler_queue_batches));
  ASSIGN_OR_RETURN(o.noise_mean, flags.GetDouble("noise_mean", o.noise_mean));
  ASSIGN_OR_RETURN(o.noise_std, flags.GetDouble("noise_std", o.noise_std));
  ASSIGN_OR_RETURN(o.steps, flags.GetInt("steps", o.steps));
  ASSIGN_OR_RETURN(o.batch_size, flags.GetInt("batch_size", o.batch_size));
  ASSIGN_OR_RETURN(o.seq_len, flags.GetInt("seq_len", o.seq_len));
  ASSIGN_OR_RETURN(o.text_bytes, flags.GetInt("text_bytes", o.text_bytes));
  ASSIGN_OR_RETURN(o.pack_texts, flags.GetBool("pack_texts", o.pack_texts));
  ASSIGN_OR_RETURN(o.lr, flags.GetDouble("lr", o.lr));
  ASSIGN_OR_RETURN(o.warmup_steps, flags.GetInt("warmup_steps", o.warmup_steps));
  ASSIGN_OR_RETURN(o.min_lr_ratio, flags.GetDouble("min_lr_ratio", o.min_lr_ratio));
  ASSIGN_OR_RETURN(o.weight_decay, flags.GetDouble("weight_decay", o.weight_decay));
  ASSIGN_OR_RETURN(o.beta2, flags.GetDouble("beta2", o.beta2));
  ASSIGN_OR_RETURN(o.grad_clip, flags.GetDouble("grad_clip", o.grad_clip));
  ASSIGN_OR_RETURN(o.aux_weight, flags.GetDouble("aux_weight", o.aux_weight));
  ASSIGN_OR_RETURN(o.identity_every, flags.GetInt("identity_every", o.identity_every));
  ASSIGN_OR_RETURN(o.mimick_steps, flags.GetInt("mimick_steps", o.mimick_steps));
  ASSIGN_OR_RETURN(o.mimick_lr, flags.GetDouble("mimick_lr", o.mimick_lr));
  ASSIGN_OR_RETURN(o.mimick_tokens, flags.GetInt("mimick_tokens", o.mimick_tokens));
  ASSIGN_OR_RETURN(o.language_alpha, flags.GetDouble("language_alpha", o.language_alpha));
  ASSIGN_OR_RETURN(int64_t seed, flags.GetInt("seed", 0));
  o.seed = static_cast<uint64_t>(seed);
  o.device = flags.GetString("device", o.device);
  o.dtype = flags.GetString("dtype", o.dtype);
  o.hypernet_dtype = flags.GetString("hypernet_dtype", o.hypernet_dtype);
  ASSIGN_OR_RETURN(o.prefetch, flags.GetInt("prefetch", o.prefetch));
  ASSIGN_OR_RETURN(o.data_workers, flags.GetInt("data_workers", o.data_workers));
  ASSIGN_OR_RETURN(o.cuda_graph, flags.GetBool("cuda_graph", o.cuda_graph));
  ASSIGN_OR_RETURN(o.fused_cross_entropy,
                   flags.GetBool("fused_cross_entropy", o.fused_cross_entropy));
  ASSIGN_OR_RETURN(o.flat_cast, flags.GetBool("flat_cast", o.flat_cast));
  ASSIGN_OR_RETURN(o.trace_steps, flags.GetInt("trace_steps", o.trace_steps));
  o.trace_file = flags.GetString("trace_file", o.output_dir + "/train_trace.json");
  ASSIGN_OR_RETURN(o.log_every, flags.GetInt("log_every", o.log_every));
  ASSIGN_OR_RETURN(o.eval_every, flags.GetInt("eval_every", o.eval_every));
  ASSIGN_OR_RETURN(o.save_every, flags.GetInt("save_every", o.save_every));
  ASSIGN_OR_RETURN(o.valid_tokenizers, flags.GetInt("valid_tokenizers", o.valid_tokenizers));
  ASSIGN_OR_RETURN(o.valid_texts_per_language,
                   flags.GetInt("valid_texts_per_language", o.valid_texts_per_language));
  ASSIGN_OR_RETURN(o.resume, flags.GetBool("resume", o.resume));
  ASSIGN_OR_RETURN(o.stop_after, flags.GetInt("stop_after", o.stop_after));
  ASSIGN_OR_RETURN(o.shards, flags.GetInt("shards", o.shards));
  // Data parallel: torchrun's environment (RANK, WORLD_SIZE, ...), overridden by flags.
  ASSIGN_OR_RETURN(o.distributed, DistributedOptionsFromEnv());
  DistributedOptions& d = o.distributed;
  ASSIGN_OR_RETURN(d.world_size, flags.GetInt("world_size", d.world_size));
  ASSIGN_OR_RETURN(d.rank, flags.GetInt("rank", d.rank));
  ASSIGN_OR_RETURN(d.local_rank, flags.GetInt("local_rank", d.local_rank));
  d.master_addr = flags.GetString("master_addr", d.master_addr);
  ASSIGN_OR_RETURN(d.master_port, flags.GetInt("master_port", d.master_port));
  d.backend = flags.GetString("dist_backend", d.backend);
  ASSIGN_OR_RETURN(d.timeout_seconds, flags.GetInt("dist_timeout", d.timeout_seconds));
  RETURN_IF_ERROR(ValidateDistributedOptions(d));
  RETURN_IF_ERROR(flags.CheckAllUsed());
  RETURN_IF_ERROR(CheckPositiveIntervals(o.log_every, o.eval_every, o.save_every));
  return o;
}

}  // namespace

int HypernetTrainCommand(const std::vector<std::string>& args) {
  return RunSubcommand("train", ParseOptions(args), RunHypernetTrain);
}

}  // namespace zett
