// zett-train continue: n-shot continued training of one target tokenizer's embeddings
// (core/train/continue_train.h, docs/evaluation.md).
#include <iostream>

#include "core/train/command_line.h"
#include "core/train/commands.h"
#include "core/train/continue_train.h"
#include "core/util/status_macros.h"

namespace zett {
namespace {

absl::StatusOr<ContinueTrainOptions> ParseOptions(const std::vector<std::string>& args) {
  ASSIGN_OR_RETURN(CommandLine flags, CommandLine::Parse(args));
  ContinueTrainOptions o;
  ASSIGN_OR_RETURN(o.base_dir, flags.GetRequiredString("base"));
  o.hypernet_dir = flags.GetString("hypernet", "");
  ASSIGN_OR_RETURN(o.target_tokenizer, flags.GetRequiredString("target_tokenizer"));
  ASSIGN_OR_RETURN(o.init, ParseContinueInit(flags.GetString("init", "hypernet")));
  ASSIGN_OR_RETURN(o.train_files, flags.GetRequiredString("train_files"));
  ASSIGN_OR_RETURN(o.test_text, flags.GetRequiredString("test_text"));
  ASSIGN_OR_RETURN(o.output_dir, flags.GetRequiredString("output_dir"));
  ASSIGN_OR_RETURN(o.steps, flags.GetInt("steps", o.steps));
  ASSIGN_OR_RETURN(o.batch_size, flags.GetInt("batch_size", o.batch_size));
  ASSIGN_OR_RETURN(o.seq_len, flags.GetInt("seq_len", o.seq_len));
  ASSIGN_OR_RETURN(o.pack, flags.GetBool("pack", o.pack));
  ASSIGN_OR_RETURN(o.encode_threads, flags.GetInt("encode_threads", o.encode_threads));
  ASSIGN_OR_RETURN(o.language_alpha, flags.GetDouble("language_alpha", o.language_alpha));
  ASSIGN_OR_RETURN(o.lr, flags.GetDouble("lr", o.lr));
  ASSIGN_OR_RETURN(o.warmup_steps, flags.GetInt("warmup_steps", o.warmup_steps));
  ASSIGN_OR_RETURN(o.min_lr_ratio, flags.GetDouble("min_lr_ratio", o.min_lr_ratio));
  ASSIGN_OR_RETURN(o.weight_decay, flags.GetDouble("weight_decay", o.weight_decay));
  ASSIGN_OR_RETURN(o.grad_clip, flags.GetDouble("grad_clip", o.grad_clip));
  ASSIGN_OR_RETURN(o.train_special_rows, flags.GetBool("train_special_rows", false));
  ASSIGN_OR_RETURN(o.eval_every, flags.GetInt("eval_every", o.eval_every));
  ASSIGN_OR_RETURN(o.max_test_bytes, flags.GetInt("max_test_bytes", o.max_test_bytes));
  ASSIGN_OR_RETURN(o.test_seq_len, flags.GetInt("test_seq_len", o.test_seq_len));
  ASSIGN_OR_RETURN(o.test_batch_size, flags.GetInt("test_batch_size", o.test_batch_size));
  o.device = flags.GetString("device", o.device);
  o.dtype = flags.GetString("dtype", o.dtype);
  ASSIGN_OR_RETURN(int64_t seed, flags.GetInt("seed", 0));
  o.seed = static_cast<uint64_t>(seed);
  ASSIGN_OR_RETURN(const bool train_hypernet, flags.GetBool("train_hypernet", false));
  if (train_hypernet) {
    return absl::UnimplementedError(
        "--train_hypernet: not implemented; continue trains the embedding tables");
  }
  RETURN_IF_ERROR(flags.CheckAllUsed());
  return o;
}

}  // namespace

int ContinueTrainCommand(const std::vector<std::string>& args) {
  return RunSubcommand("continue", ParseOptions(args), [](const ContinueTrainOptions& o) {
    return RunContinueTraining(o, &std::cerr).status();
  });
}

}  // namespace zett
