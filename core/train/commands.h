// The subcommands of `zett-train`. Each takes the arguments after its name and returns the
// process exit code, printing errors to stderr.
#ifndef ZETT_CORE_TRAIN_COMMANDS_H_
#define ZETT_CORE_TRAIN_COMMANDS_H_

#include <string>
#include <vector>

namespace zett {

// zett-train pretrain --train_files=… --tokenizer_dir=… --output_dir=… [options]
int PretrainCommand(const std::vector<std::string>& args);

// zett-train train --base=DIR --train_files=… --output_dir=… [options]
// Trains a ZeTT hypernetwork for the base LM (core/train/hypernet_train.h, docs/training.md).
int HypernetTrainCommand(const std::vector<std::string>& args);

// zett-train logits --model=DIR --ids=FILE --out=FILE [--device=cpu|cuda] [--dtype=float32]
// Runs a Hugging Face checkpoint on the ids in FILE ({"input_ids": [[…]], "attention_mask":
// [[…]]} (mask optional), rows of equal length) and writes {"logits": float32 [B, T, V]} as
// safetensors. The parity oracle (scripts/parity/backbones.py) compares it with transformers.
int LogitsCommand(const std::vector<std::string>& args);

// zett-train eval --base=DIR [--hypernet=DIR] --target_tokenizer=PATH,… --text=FILE,…
//   --method=original,hypernet,fvt,lexical,random --out=FILE [--markdown=FILE] [options]
// Bits per byte and tokens per byte per text × tokenizer × method (core/eval/evaluation.h,
// docs/evaluation.md). Dashed spellings (--target-tokenizer) and repeated list flags work too.
int EvalCommand(const std::vector<std::string>& args);

// zett-train continue --base=DIR [--hypernet=DIR] --target_tokenizer=PATH
//   --init=hypernet|fvt|lexical|random --train_files=… --test_text=FILE --output_dir=DIR
// The paper's n-shot mode: trains one target tokenizer's embeddings with the backbone frozen;
// bits/byte on the test text against tokens seen (core/train/continue_train.h).
int ContinueTrainCommand(const std::vector<std::string>& args);

// zett-train plot --run=DIR [--out=FILE]
// Redraws a run's loss curve (default DIR/loss_curve.png) from DIR/trainer_state.json: a
// pretraining or a hypernetwork training run (core/train/run_plots.h).
int PlotCommand(const std::vector<std::string>& args);

}  // namespace zett

#endif  // ZETT_CORE_TRAIN_COMMANDS_H_
