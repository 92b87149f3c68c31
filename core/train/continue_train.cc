#include "core/train/continue_train.h"

#include <c10/core/GradMode.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/compat/device_choice.h"
#include "core/compat/torch_compat.h"
#include "core/eval/eval_text.h"
#include "core/eval/lm_scorer.h"
#include "core/eval/method_tables.h"
#include "core/eval/target_vocabulary.h"
#include "core/io/json_file.h"
#include "core/io/safetensors.h"
#include "core/model/pretrained.h"
#include "core/train/command_line.h"
#include "core/train/cross_entropy.h"
#include "core/train/encoded_texts.h"
#include "core/train/flat_adamw.h"
#include "core/train/lr_schedule.h"
#include "core/train/training_texts.h"
#include "core/util/status_macros.h"

namespace zett {
namespace {

namespace fs = std::filesystem;
namespace tk = ::zett::tokenizer;
using json = nlohmann::json;

absl::Status CheckOptions(const ContinueTrainOptions& o) {
  if (o.base_dir.empty()) return absl::InvalidArgumentError("--base is required");
  if (o.target_tokenizer.empty()) {
    return absl::InvalidArgumentError("--target_tokenizer is required");
  }
  if (o.init == EvalMethod::kOriginal) {
    return absl::InvalidArgumentError(
        "--init=original: continued training starts from hypernet, fvt, lexical or random");
  }
  if (o.init == EvalMethod::kHypernet && o.hypernet_dir.empty()) {
    return absl::InvalidArgumentError("--init=hypernet needs --hypernet");
  }
  if (o.train_files.empty()) return absl::InvalidArgumentError("--train_files is required");
  if (o.test_text.empty()) return absl::InvalidArgumentError("--test_text is required");
  if (o.steps < 0 || o.batch_size < 1 || o.seq_len < 2 || o.eval_every < 1 ||
      o.test_batch_size < 1 || o.max_test_bytes < 0 || o.test_seq_len < 0 || o.encode_threads < 0) {
    return absl::InvalidArgumentError(
        "--steps >= 0, --batch_size >= 1, --seq_len >= 2, --eval_every >= 1, "
        "--test_batch_size >= 1 and --max_test_bytes, --test_seq_len, --encode_threads >= 0");
  }
  return UseCuda(o.device).status();
}

// One training batch on the CPU: rows [BOS] + target rows, cut to seq_len, right-padded.
struct TargetBatch {
  at::Tensor input_ids;  // [B, T] int64
  at::Tensor positions;  // [N] int64: flat indices of [B, T] that predict a token
  at::Tensor targets;    // [N] int64: the token each predicts
};

// Rows of ≤ seq_len + 1 ids (EncodedTexts::SampleRows) as inputs and next-token targets,
// right-padded to the longest row. A BOS is never a target: eval never scores one, and a
// packed row's next document starts with it.
TargetBatch MakeBatch(const std::vector<std::vector<int32_t>>& rows, int32_t bos_row) {
  int64_t width = 1;
  for (const std::vector<int32_t>& row : rows) {
    width = std::max<int64_t>(width, static_cast<int64_t>(row.size()) - 1);
  }
  const auto batch = static_cast<int64_t>(rows.size());
  // Right padding under causal attention never reaches a real position: no mask needed.
  std::vector<int64_t> ids(batch * width, bos_row), positions, targets;
  for (int64_t r = 0; r < batch; ++r) {
    const std::vector<int32_t>& row = rows[r];
    for (int64_t t = 0; t + 1 < static_cast<int64_t>(row.size()); ++t) {
      ids[r * width + t] = row[t];
      if (row[t + 1] == bos_row) continue;
      positions.push_back(r * width + t);
      targets.push_back(row[t + 1]);
    }
  }
  return TargetBatch{at::tensor(ids, at::kLong).view({batch, width}),
                     at::tensor(positions, at::kLong), at::tensor(targets, at::kLong)};
}

// Every training document in target rows, once, without its BOS.
absl::StatusOr<EncodedTexts> EncodeTrainingTexts(const TrainingTexts& texts,
                                                 const tk::Tokenizer& target,
                                                 const TargetVocabulary& vocabulary,
                                                 int64_t threads) {
  return EncodedTexts::Encode(
      texts,
      [&](const std::string& text) -> absl::StatusOr<std::vector<int32_t>> {
        ASSIGN_OR_RETURN(std::vector<int32_t> ids, EncodeWithTarget(target, vocabulary, text));
        ids.erase(ids.begin());  // [BOS] + rows: SampleRows adds the BOS
        return ids;
      },
      threads);
}

// The trained tables and what stays fixed.
struct Tables {
  at::Tensor input;                  // [V, d] fp32, requires grad
  at::Tensor output;                 // [V, d] fp32, requires grad; undefined when tied
  at::Tensor bias;                   // [V] fp32, fixed; optional
  at::Tensor frozen_rows;            // [F] int64
  at::Tensor frozen_in, frozen_out;  // [F, d]: their initial values

  const at::Tensor& head() const { return output.defined() ? output : input; }
  VocabularyTables Detached() const {
    return {input.detach(), output.defined() ? output.detach() : at::Tensor(), bias};
  }
};

// Mean next-token NLL (nats) of `batch`; logits in fp32 from the final hidden states, as the
// scorer computes them.
at::Tensor BatchLoss(LlamaForCausalLM& model, const Tables& tables, const TargetBatch& batch,
                     at::ScalarType dtype) {
  const at::Device device = tables.input.device();
  DecoderInputs in;
  in.input_ids = batch.input_ids.to(device);
  in.input_embeddings = tables.input.to(dtype);
  at::Tensor hidden = model->HiddenStates(in);  // [B, T, d]
  at::Tensor states = hidden.reshape({-1, hidden.size(-1)})
                          .index_select(0, batch.positions.to(device))
                          .to(at::kFloat);                    // [N, d]
  at::Tensor logits = at::matmul(states, tables.head().t());  // [N, V]
  if (tables.bias.defined()) logits = logits + tables.bias;
  const at::Tensor targets = batch.targets.to(device);
  return CrossEntropySum(logits, targets) /
         static_cast<double>(std::max<int64_t>(1, targets.numel()));
}

// One update of the tables on `batch` → its mean loss. Frozen rows get no gradient and are
// put back after the update (weight decay moves rows without gradient too).
absl::StatusOr<double> TrainStep(LlamaForCausalLM& model, Tables& tables, FlatAdamW& optimizer,
                                 const TargetBatch& batch, at::ScalarType dtype, double lr,
                                 double grad_clip) {
  try {
    optimizer.ZeroGrad();
    at::Tensor loss = BatchLoss(model, tables, batch, dtype);
    loss.backward();
    c10::NoGradGuard no_grad;
    const bool frozen = tables.frozen_rows.numel() > 0;
    for (at::Tensor* t : {&tables.input, &tables.output}) {
      // Before clipping, so frozen rows do not count toward the norm.
      if (frozen && t->defined()) t->mutable_grad().index_fill_(0, tables.frozen_rows, 0);
    }
    optimizer.ClipGradNorm(grad_clip);
    optimizer.Step(lr);
    if (frozen) {
      tables.input.index_copy_(0, tables.frozen_rows, tables.frozen_in);
      if (tables.output.defined()) {
        tables.output.index_copy_(0, tables.frozen_rows, tables.frozen_out);
      }
    }
    return loss.item<double>();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("continue: training step: ", e.what()));
  }
}

json CurveToJson(const std::vector<CurvePoint>& curve) {
  json out = json::array();
  for (const CurvePoint& p : curve) {
    out.push_back({{"step", p.step},
                   {"tokens_seen", p.tokens_seen},
                   {"bits_per_byte", p.bits_per_byte},
                   {"tokens_per_byte", p.tokens_per_byte},
                   {"train_loss", p.train_loss},
                   {"lr", p.lr}});
  }
  return out;
}

}  // namespace

absl::StatusOr<EvalMethod> ParseContinueInit(const std::string& name) {
  absl::StatusOr<EvalMethod> method = ParseEvalMethod(name);
  if (!method.ok() || *method == EvalMethod::kOriginal) {
    return absl::InvalidArgumentError(
        absl::StrCat("--init=", name, ": expected hypernet, fvt, lexical or random"));
  }
  return method;
}

absl::StatusOr<std::vector<CurvePoint>> RunContinueTraining(const ContinueTrainOptions& o,
                                                            std::ostream* log) {
  RETURN_IF_ERROR(CheckOptions(o));
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  // Inputs first: a typo fails in seconds, not after the model is loaded.
  ASSIGN_OR_RETURN(EvalText test, LoadEvalText(o.test_text, o.max_test_bytes));
  ASSIGN_OR_RETURN(TrainingTexts texts, TrainingTexts::Load(o.train_files));
  ASSIGN_OR_RETURN(auto target, LoadNamedTokenizer(o.target_tokenizer, "target tokenizer"));

  ASSIGN_OR_RETURN(const bool cuda, UseCuda(o.device));
  BackboneOptions backbone_options;
  backbone_options.device = cuda ? at::Device(at::kCUDA) : at::Device(at::kCPU);
  backbone_options.dtype = cuda ? at::kBFloat16 : at::kFloat;
  if (o.dtype != "auto") {
    ASSIGN_OR_RETURN(backbone_options.dtype, ParseDtype(o.dtype));
  }
  const at::Device device = backbone_options.device;
  ASSIGN_OR_RETURN(PretrainedBackbone backbone,
                   LoadPretrainedBackbone(o.base_dir, backbone_options));
  if (!backbone.decoder) {
    return absl::InvalidArgumentError(
        absl::StrCat(o.base_dir, ": continued training supports decoder (causal) LMs only"));
  }
  backbone.decoder->eval();
  const DecoderConfig& config = backbone.decoder->config();
  ScoreOptions score_options;
  score_options.seq_len =
      o.test_seq_len > 0 ? o.test_seq_len : std::min<int64_t>(config.max_position_embeddings, 512);
  score_options.batch_size = o.test_batch_size;
  ASSIGN_OR_RETURN(auto base_tokenizer, LoadBaseTokenizer(o.base_dir));
  // The BOS as eval finds it.
  const int32_t bos_id = static_cast<int32_t>(
      config.bos_token_id.value_or(base_tokenizer->TokenToId("<s>").value_or(-1)));
  if (bos_id < 0 || bos_id >= base_tokenizer->vocab_size()) {
    return absl::FailedPreconditionError(
        absl::StrCat(o.base_dir, ": no BOS token (config bos_token_id, or <s>)"));
  }
  score_options.pad_id = bos_id;

  MethodTablesOptions tables_options;
  tables_options.base_dir = o.base_dir;
  tables_options.hypernet_dir = o.hypernet_dir;
  tables_options.load_hypernet = o.init == EvalMethod::kHypernet;
  tables_options.device = device;
  tables_options.seed = o.seed;
  ASSIGN_OR_RETURN(MethodTables method_tables,
                   MethodTables::Load(tables_options, *base_tokenizer,
                                      std::string(base_tokenizer->IdToToken(bos_id))));
  ASSIGN_OR_RETURN(TargetVocabulary vocabulary, method_tables.BuildTargetVocabulary(*target));
  const std::vector<int32_t> copy = method_tables.CopySources(vocabulary);
  ASSIGN_OR_RETURN(VocabularyTables initial,
                   method_tables.TablesFor(o.init, vocabulary, copy, test.language));

  std::vector<std::vector<int32_t>> test_sequences;
  int64_t test_tokens = 0;
  for (const std::string& document : test.documents) {
    ASSIGN_OR_RETURN(std::vector<int32_t> rows, EncodeWithTarget(*target, vocabulary, document));
    test_tokens += static_cast<int64_t>(rows.size()) - 1;  // BOS excluded, as eval
    test_sequences.push_back(std::move(rows));
  }

  const int64_t threads =
      o.encode_threads > 0
          ? o.encode_threads
          : std::clamp<int64_t>(static_cast<int64_t>(std::thread::hardware_concurrency()), 1, 8);
  ASSIGN_OR_RETURN(const EncodedTexts train,
                   EncodeTrainingTexts(texts, *target, vocabulary, threads));
  const double encoded_after = elapsed();

  Tables tables;
  std::vector<int64_t> frozen;
  for (size_t row = 0; row < copy.size(); ++row) {
    if (copy[row] >= 0 && !o.train_special_rows) frozen.push_back(static_cast<int64_t>(row));
  }
  try {
    c10::NoGradGuard no_grad;
    auto trainable = [&](const at::Tensor& t) {
      return t.to(device, at::kFloat).clone().contiguous();
    };
    tables.input = trainable(initial.input);
    if (initial.output.defined()) tables.output = trainable(initial.output);
    if (initial.bias.defined()) tables.bias = initial.bias.to(device, at::kFloat);
    tables.frozen_rows = at::tensor(frozen, at::kLong).to(device);
    tables.frozen_in = tables.input.index_select(0, tables.frozen_rows);
    if (tables.output.defined())
      tables.frozen_out = tables.output.index_select(0, tables.frozen_rows);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("continue: tables to ", device.str(), ": ", e.what()));
  }
  tables.input.set_requires_grad(true);
  std::vector<std::pair<std::string, at::Tensor>> params = {{"embeddings_in", tables.input}};
  if (tables.output.defined()) {
    tables.output.set_requires_grad(true);
    params.emplace_back("embeddings_out", tables.output);
  }
  AdamWOptions adam;
  adam.weight_decay = o.weight_decay;
  FlatAdamW optimizer(params, adam);
  const WarmupCosineSchedule schedule{o.lr, o.warmup_steps, std::max<int64_t>(o.steps, 1),
                                      o.min_lr_ratio};

  if (!o.output_dir.empty()) fs::create_directories(o.output_dir);
  if (log) {
    *log << absl::StrFormat(
        "continue: %s on %s %s; target %s: %d rows (%d frozen), init %s; test %s: %d bytes, "
        "%d tokens; training text: %d documents, %d target tokens (encoded once, %s)\n",
        o.base_dir, cuda ? "cuda" : "cpu", DtypeName(backbone_options.dtype), o.target_tokenizer,
        vocabulary.rows(), frozen.size(), EvalMethodName(o.init), test.path, test.bytes,
        test_tokens, texts.documents(), train.tokens(), FormatDuration(encoded_after));
  }

  std::vector<CurvePoint> curve;
  int64_t tokens_seen = 0;
  double loss_sum = 0, lr = 0;
  int64_t loss_steps = 0;
  auto add_point = [&](int64_t step) -> absl::Status {
    ASSIGN_OR_RETURN(ScoreResult score, ScoreSequences(backbone.decoder, test_sequences,
                                                       tables.Detached(), score_options));
    CurvePoint p;
    p.step = step;
    p.tokens_seen = tokens_seen;
    p.bits_per_byte = score.nats / std::log(2.0) / static_cast<double>(test.bytes);
    p.tokens_per_byte = static_cast<double>(test_tokens) / static_cast<double>(test.bytes);
    p.train_loss = loss_steps > 0 ? loss_sum / static_cast<double>(loss_steps) : 0.0;
    p.lr = lr;
    curve.push_back(p);
    loss_sum = 0;
    loss_steps = 0;
    if (log) {
      *log << absl::StrFormat(
          "continue: step %d  tokens %d  %.4f bits/byte  %.4f tokens/byte  train loss %.4f  "
          "lr %.2e  (%s)\n",
          p.step, p.tokens_seen, p.bits_per_byte, p.tokens_per_byte, p.train_loss, p.lr,
          FormatDuration(elapsed()));
    }
    if (o.output_dir.empty()) return absl::OkStatus();
    return WriteStringToFile((fs::path(o.output_dir) / "curve.json").string(),
                             CurveToJson(curve).dump(2) + "\n");
  };
  RETURN_IF_ERROR(add_point(0));

  // The next step's batch is drawn while this step runs on the device.
  auto batch_for = [&](int64_t step) {
    return std::async(std::launch::async, [&, step]() -> absl::StatusOr<TargetBatch> {
      return MakeBatch(train.SampleRows(o.batch_size, o.seq_len + 1, vocabulary.bos_row,
                                        o.language_alpha, o.pack, o.seed, step),
                       vocabulary.bos_row);
    });
  };
  std::future<absl::StatusOr<TargetBatch>> next = batch_for(0);
  for (int64_t step = 0; step < o.steps; ++step) {
    absl::StatusOr<TargetBatch> encoded = next.get();
    if (step + 1 < o.steps) next = batch_for(step + 1);
    ASSIGN_OR_RETURN(TargetBatch batch, std::move(encoded));
    lr = schedule.At(step);
    if (batch.targets.numel() > 0) {  // else only empty texts: nothing to predict
      ASSIGN_OR_RETURN(const double loss, TrainStep(backbone.decoder, tables, optimizer, batch,
                                                    backbone_options.dtype, lr, o.grad_clip));
      loss_sum += loss;
      ++loss_steps;
      tokens_seen += batch.targets.numel();
    }
    if ((step + 1) % o.eval_every == 0 || step + 1 == o.steps) RETURN_IF_ERROR(add_point(step + 1));
  }

  if (!o.output_dir.empty()) {
    TensorMap out = {
        {"embeddings_in", tables.input.detach()},
        {"row_of_target_id", at::tensor(std::vector<int64_t>(vocabulary.row_of_target_id.begin(),
                                                             vocabulary.row_of_target_id.end()),
                                        at::kLong)}};
    if (tables.output.defined()) out["embeddings_out"] = tables.output.detach();
    if (tables.bias.defined()) out["bias"] = tables.bias;
    const std::string path = (fs::path(o.output_dir) / "embeddings.safetensors").string();
    RETURN_IF_ERROR(WriteSafetensors(path, out,
                                     {{"init", EvalMethodName(o.init)},
                                      {"steps", absl::StrCat(o.steps)},
                                      {"target_tokenizer", o.target_tokenizer}}));
    if (log) *log << "continue: wrote " << path << " and curve.json\n";
  }
  return curve;
}

}  // namespace zett
