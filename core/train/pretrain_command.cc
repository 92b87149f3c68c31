#include "core/train/command_line.h"
#include "core/train/commands.h"
#include "core/train/pretrain.h"
#include "core/util/status_macros.h"

namespace zett {
namespace {

absl::StatusOr<PretrainOptions> ParseOptions(const std::vector<std::string>& args) {
  ASSIGN_OR_RETURN(CommandLine flags, CommandLine::Parse(args));
  PretrainOptions o;
  ASSIGN_OR_RETURN(o.train_files, flags.GetRequiredString("train_files"));
  o.valid_files = flags.GetString("valid_files", o.valid_files);
  o.init_from = flags.GetString("init_from", "");
  if (o.init_from.empty()) {
    ASSIGN_OR_RETURN(o.tokenizer_dir, flags.GetRequiredString("tokenizer_dir"));
  } else {
    // Fine-tuning keeps the model's own tokenizer.
    o.tokenizer_dir = flags.GetString("tokenizer_dir", o.init_from);
  }
  ASSIGN_OR_RETURN(o.output_dir, flags.GetRequiredString("output_dir"));
  ASSIGN_OR_RETURN(o.hidden_size, flags.GetInt("hidden_size", o.hidden_size));
  ASSIGN_OR_RETURN(o.num_hidden_layers, flags.GetInt("num_hidden_layers", o.num_hidden_layers));
  ASSIGN_OR_RETURN(o.num_attention_heads,
                   flags.GetInt("num_attention_heads", o.num_attention_heads));
  ASSIGN_OR_RETURN(o.num_key_value_heads,
                   flags.GetInt("num_key_value_heads", o.num_key_value_heads));
  ASSIGN_OR_RETURN(o.intermediate_size, flags.GetInt("intermediate_size", o.intermediate_size));
  ASSIGN_OR_RETURN(o.rope_theta, flags.GetDouble("rope_theta", o.rope_theta));
  ASSIGN_OR_RETURN(o.steps, flags.GetInt("steps", o.steps));
  ASSIGN_OR_RETURN(o.batch_size, flags.GetInt("batch_size", o.batch_size));
  ASSIGN_OR_RETURN(o.seq_len, flags.GetInt("seq_len", o.seq_len));
  ASSIGN_OR_RETURN(o.lr, flags.GetDouble("lr", o.lr));
  ASSIGN_OR_RETURN(o.warmup_steps, flags.GetInt("warmup_steps", o.warmup_steps));
  ASSIGN_OR_RETURN(o.min_lr_ratio, flags.GetDouble("min_lr_ratio", o.min_lr_ratio));
  ASSIGN_OR_RETURN(o.weight_decay, flags.GetDouble("weight_decay", o.weight_decay));
  ASSIGN_OR_RETURN(o.beta2, flags.GetDouble("beta2", o.beta2));
  ASSIGN_OR_RETURN(o.grad_clip, flags.GetDouble("grad_clip", o.grad_clip));
  ASSIGN_OR_RETURN(o.language_alpha, flags.GetDouble("language_alpha", o.language_alpha));
  ASSIGN_OR_RETURN(int64_t seed, flags.GetInt("seed", 0));
  o.seed = static_cast<uint64_t>(seed);
  o.device = flags.GetString("device", o.device);
  o.dtype = flags.GetString("dtype", o.dtype);
  o.save_dtype = flags.GetString("save_dtype", o.save_dtype);
  ASSIGN_OR_RETURN(o.log_every, flags.GetInt("log_every", o.log_every));
  ASSIGN_OR_RETURN(o.eval_every, flags.GetInt("eval_every", o.eval_every));
  ASSIGN_OR_RETURN(o.save_every, flags.GetInt("save_every", o.save_every));
  ASSIGN_OR_RETURN(o.eval_windows, flags.GetInt("eval_windows", o.eval_windows));
  ASSIGN_OR_RETURN(o.tokenizer_threads, flags.GetInt("tokenizer_threads", o.tokenizer_threads));
  o.token_cache_dir = flags.GetString("token_cache_dir", o.token_cache_dir);
  if (o.token_cache_dir == "none") o.token_cache_dir.clear();
  ASSIGN_OR_RETURN(o.resume, flags.GetBool("resume", o.resume));
  ASSIGN_OR_RETURN(o.stop_after, flags.GetInt("stop_after", o.stop_after));
  RETURN_IF_ERROR(flags.CheckAllUsed());
  RETURN_IF_ERROR(CheckPositiveIntervals(o.log_every, o.eval_every, o.save_every));
  return o;
}

}  // namespace

int PretrainCommand(const std::vector<std::string>& args) {
  return RunSubcommand("pretrain", ParseOptions(args), RunPretrain);
}

}  // namespace zett
