// `zett-train continue`: the paper's n-shot mode. A fixed target tokenizer's embeddings start
// from a transfer method (hypernet, FVT, lexical or random: core/eval/method_tables.h) and are
// trained — input and output tables, backbone frozen — on that tokenizer's encoding of the
// training text. The curve is bits per byte on a test split against target tokens seen, scored
// exactly as `zett-train eval` scores (core/eval/lm_scorer.h), so step 0 is eval's number for
// the init method. Trained to convergence it is the oracle: the best any embedding-only method
// can reach with this LM (docs/evaluation.md).
//
// Training rows: every training document is encoded once in target rows (EncodeWithTarget, as
// eval); each of --batch_size rows per step is [BOS] + a window of one document
// (EncodedTexts::SampleRows), packed with further documents, each from its own BOS, up to
// seq_len inputs (unless !pack). The loss is the mean next-token cross-entropy over real
// positions whose target is not a BOS; logits come from the backbone's final hidden states in
// fp32 against the fp32 output table, as the scorer's do.
//
// Trainable: E_in and E_out [V_target, d] fp32 (one table for a tied LM). A bias the init
// method has (the base LM's or a hypernet's) is kept fixed. Rows that keep an original row
// (special tokens, among them the BOS every sequence starts with) are frozen unless
// train_special_rows: they are the rows the LM was trained with, and the server serves them.
#ifndef ZETT_CORE_TRAIN_CONTINUE_TRAIN_H_
#define ZETT_CORE_TRAIN_CONTINUE_TRAIN_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/eval/embedding_methods.h"

namespace zett {

struct ContinueTrainOptions {
  std::string base_dir;          // Hugging Face decoder LM
  std::string hypernet_dir;      // needed for init=hypernet; its tokenizer decomposes as in eval
  std::string target_tokenizer;  // tokenizer.json or SentencePiece .model
  EvalMethod init = EvalMethod::kHypernet;
  std::string train_files;  // comma list / globs (TrainingTexts::Load)
  std::string test_text;    // a test split file (core/eval/eval_text.h)
  std::string output_dir;   // curve.json, embeddings.safetensors

  int64_t steps = 1000;
  int64_t batch_size = 8;      // texts per step
  int64_t seq_len = 256;       // training rows, BOS included
  bool pack = true;            // fill each row with further documents up to seq_len
  int64_t encode_threads = 0;  // threads encoding the training text; 0 = the cores, at most 8
  double language_alpha = 0.3;
  // Embedding rows take large steps well: 1e-3 moves a row by ~1e-3 per step in every
  // dimension, small against typical row norms (~1) but enough to converge in a few thousand.
  double lr = 1e-3;
  int64_t warmup_steps = 100;
  double min_lr_ratio = 0.1;
  double weight_decay = 0.0;  // embedding tables: no decay, as is usual
  double grad_clip = 1.0;
  bool train_special_rows = false;

  int64_t eval_every = 100;     // steps; the last step is always scored
  int64_t max_test_bytes = 0;   // of the test text; 0 = all
  int64_t test_seq_len = 0;     // scoring windows; 0 = min(max_position_embeddings, 512), as eval
  int64_t test_batch_size = 8;  // windows per forward, as eval
  std::string device = "auto";  // auto | cpu | cuda
  std::string dtype = "auto";   // backbone: auto (bf16 on CUDA, fp32 on CPU) | float32 | bfloat16
  uint64_t seed = 0;            // init rows (as eval's --seed) and the text sample
};

struct CurvePoint {
  int64_t step = 0;
  int64_t tokens_seen = 0;  // training target tokens predicted so far
  double bits_per_byte = 0;
  double tokens_per_byte = 0;
  double train_loss = 0;  // mean nats/token over the steps since the previous point (0 at step 0)
  double lr = 0;          // of the last step
};

// The init methods continued training starts from: hypernet, fvt, lexical, random.
absl::StatusOr<EvalMethod> ParseContinueInit(const std::string& name);

// Checks every input before the first step; progress lines go to `log` (may be null). With an
// output_dir, writes curve.json after every point and the final tables at the end.
absl::StatusOr<std::vector<CurvePoint>> RunContinueTraining(const ContinueTrainOptions& options,
                                                            std::ostream* log);

}  // namespace zett

#endif  // ZETT_CORE_TRAIN_CONTINUE_TRAIN_H_
