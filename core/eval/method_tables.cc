#include "core/eval/method_tables.h"

#include <c10/core/GradMode.h>

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "core/hypernet/checkpoint.h"
#include "core/tokenizer/tokenizer_file.h"
#include "core/transfer/target_rows.h"
#include "core/util/status_macros.h"

namespace zett {
namespace {

namespace fs = std::filesystem;
namespace tk = ::zett::tokenizer;

// fp32 CPU copies: the baselines' statistics and copied rows.
SourceEmbeddings ToFloat(const SourceEmbeddings& s) {
  SourceEmbeddings f = s;
  f.input = s.input.to(at::kFloat).contiguous();
  if (s.output.defined()) f.output = s.output.to(at::kFloat).contiguous();
  if (s.output_bias.defined()) f.output_bias = s.output_bias.to(at::kFloat).contiguous();
  return f;
}

}  // namespace

absl::StatusOr<std::unique_ptr<tk::Tokenizer>> LoadNamedTokenizer(const std::string& path,
                                                                  const std::string& what) {
  if (!fs::exists(path))
    return absl::NotFoundError(absl::StrCat(what, " ", path, ": no such file"));
  auto loaded = tk::LoadTokenizerFile(path);
  if (!loaded.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " ", path, ": ", loaded.status().message()));
  }
  return std::move(loaded).value();
}

absl::StatusOr<std::unique_ptr<tk::Tokenizer>> LoadBaseTokenizer(const std::string& base_dir) {
  const std::string json_path = (fs::path(base_dir) / "tokenizer.json").string();
  if (fs::exists(json_path)) return LoadNamedTokenizer(json_path, "base tokenizer");
  return LoadNamedTokenizer((fs::path(base_dir) / "tokenizer.model").string(), "base tokenizer");
}

absl::StatusOr<MethodTables> MethodTables::Load(const MethodTablesOptions& options,
                                                const tk::Tokenizer& base_tokenizer,
                                                const std::string& bos_content) {
  c10::NoGradGuard no_grad;
  if (options.load_hypernet && options.hypernet_dir.empty()) {
    return absl::InvalidArgumentError("method 'hypernet' needs --hypernet");
  }
  MethodTables t;
  t.bos_content_ = bos_content;
  t.seed_ = options.seed;
  // The decomposing tokenizer is the hypernet's (the server's choice), or the base LM's when no
  // hypernetwork is given.
  std::unique_ptr<tk::Tokenizer> decomposing;
  if (!options.hypernet_dir.empty()) {
    ASSIGN_OR_RETURN(decomposing, LoadNamedTokenizer(HypernetTokenizerPath(options.hypernet_dir),
                                                     "hypernet tokenizer"));
  }
  ASSIGN_OR_RETURN(t.decomposer_,
                   tk::Decomposer::Create(decomposing ? *decomposing : base_tokenizer));
  ASSIGN_OR_RETURN(SourceEmbeddings stored, LoadSourceEmbeddings(options.base_dir));
  t.source_ = ToFloat(stored);
  // Text is encoded with the target tokenizer itself, so every token it emits must keep its
  // true surface form: zett's whitespace consistency renames whitespace-only tokens ("Ġ", "Ċ")
  // to unused placeholders (its converted tokenizer never emits them), which would give real
  // tokens a meaningless decomposition here.
  t.decompose_options_.make_whitespace_consistent = false;
  t.original_vocab_size_ =
      std::min<int64_t>(t.source_.vocab_size(), t.decomposer_->original_vocabulary().original_size);
  if (!options.load_hypernet) return t;

  ASSIGN_OR_RETURN(Hypernet loaded, LoadHypernet(options.hypernet_dir));
  const ZettHypernetConfig& hc = loaded.config();
  const SourceEmbeddings& source = t.source_;
  if (source.hidden_size() != hc.n_embd) {
    return absl::FailedPreconditionError(
        absl::StrCat("base hidden size ", source.hidden_size(), " != hypernet n_embd ", hc.n_embd));
  }
  if (source.vocab_size() < hc.original_vocab_size) {
    return absl::FailedPreconditionError(absl::StrCat("base has ", source.vocab_size(),
                                                      " embedding rows; the hypernet expects ",
                                                      hc.original_vocab_size));
  }
  if (source.tied() == hc.separate_out_embeddings) {
    return absl::FailedPreconditionError(
        "base and hypernet disagree on tied embeddings (separate_out_embeddings)");
  }
  RETURN_IF_ERROR(loaded.To(options.device, at::kFloat));
  t.stacked_ = source.Stacked().to(options.device, at::kFloat);
  ASSIGN_OR_RETURN(t.projected_, loaded.ProjectSourceEmbeddings(t.stacked_));
  t.decompose_options_.max_len = static_cast<int>(hc.hn_surface_maxlen);
  t.decompose_options_.pad_id = static_cast<int32_t>(hc.pad_token_id);
  t.original_vocab_size_ = hc.original_vocab_size;
  t.hypernet_ = std::move(loaded);
  return t;
}

absl::StatusOr<TargetVocabulary> MethodTables::BuildTargetVocabulary(
    const tk::Tokenizer& target) const {
  return ::zett::BuildTargetVocabulary(*decomposer_, target, decompose_options_, bos_content_);
}

std::vector<int32_t> MethodTables::CopySources(const TargetVocabulary& vocabulary) const {
  return OriginalRowSources(vocabulary.decomposition, original_vocab_size_);
}

bool MethodTables::PerLanguage(EvalMethod method) const {
  return method == EvalMethod::kHypernet && hypernet_ && hypernet_->config().hn_embed_lang_id;
}

absl::StatusOr<VocabularyTables> MethodTables::TablesFor(EvalMethod method,
                                                         const TargetVocabulary& vocabulary,
                                                         const std::vector<int32_t>& copy,
                                                         const std::string& language) const {
  c10::NoGradGuard no_grad;
  switch (method) {
    case EvalMethod::kHypernet: {
      if (!hypernet_) return absl::FailedPreconditionError("method 'hypernet': no hypernet loaded");
      std::optional<int64_t> language_id;
      const ZettHypernetConfig& hc = hypernet_->config();
      if (hc.hn_embed_lang_id) {
        auto it = std::find(hc.langs.begin(), hc.langs.end(), language);
        if (it == hc.langs.end()) {
          return absl::InvalidArgumentError(
              absl::StrCat("the hypernetwork embeds languages and has no '", language, "'"));
        }
        language_id = it - hc.langs.begin();
      }
      at::Tensor ids = at::tensor(vocabulary.decomposition.ids, at::kInt)
                           .view({vocabulary.rows(), vocabulary.decomposition.max_len});
      ASSIGN_OR_RETURN(HypernetOutput out,
                       PredictTargetRows(*hypernet_, ids, projected_, stacked_, language_id,
                                         forward_options_, copy, source_));
      return VocabularyTables{out.embeddings_in, out.embeddings_out, out.bias};
    }
    case EvalMethod::kFvt:
      return FvtTables(vocabulary.decomposition, source_, copy, seed_);
    case EvalMethod::kLexical:
      return LexicalTables(vocabulary.decomposition,
                           decomposer_->original_vocabulary().surface_forms, source_, copy, seed_);
    case EvalMethod::kRandom:
      return RandomTables(vocabulary.rows(), source_, copy, seed_);
    case EvalMethod::kOriginal:
      break;
  }
  return absl::InternalError("no tables for the original method");
}

}  // namespace zett
