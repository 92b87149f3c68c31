#include "core/train/zett_batch.h"

#include <algorithm>
#include <chrono>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/tokenizer/normalizer.h"
#include "core/tokenizer/pre_tokenizer.h"
#include "core/tokenizer/surface_form.h"
#include "core/tokenizer/unigram_model.h"
#include "core/util/status_macros.h"

namespace zett {
namespace {

using Clock = std::chrono::steady_clock;

// Padding rows of the vocabulary get this logit bias: never predicted, no gradient.
constexpr float kMaskedLogit = -1e4f;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Text bytes a surface form spells: one byte char per byte (special tokens are given 0).
int64_t SpelledBytes(const std::string& surface_form) {
  int64_t n = 0;
  for (unsigned char c : surface_form) n += (c & 0xC0) != 0x80;
  return n;
}

// zett's byte-level pipeline around a sampled UnigramLM: Prepend(" ") + Split + ByteLevel.
absl::StatusOr<std::unique_ptr<tokenizer::Tokenizer>> SampledTokenizerPipeline(
    const SampledTokenizer& sampled) {
  std::vector<std::pair<std::string, double>> pieces;
  pieces.reserve(sampled.pieces.size());
  for (size_t i = 0; i < sampled.pieces.size(); ++i) {
    pieces.emplace_back(sampled.pieces[i], sampled.log_scores[i]);
  }
  tokenizer::Tokenizer::Components components;
  ASSIGN_OR_RETURN(components.model,
                   tokenizer::UnigramModel::Create(std::move(pieces), std::nullopt, false));
  components.model->DisableCache();
  components.normalizer = std::make_unique<tokenizer::PrependNormalizer>(" ");
  std::vector<std::unique_ptr<tokenizer::PreTokenizer>> steps;
  ASSIGN_OR_RETURN(auto split, tokenizer::SplitPreTokenizer::Create(
                                   kSplitRegex, true, tokenizer::SplitBehavior::kRemoved, true));
  steps.push_back(std::move(split));
  steps.push_back(std::make_unique<tokenizer::ByteLevelPreTokenizer>(false, false));
  components.pre_tokenizer = std::make_unique<tokenizer::SequencePreTokenizer>(std::move(steps));
  components.byte_level = true;
  return tokenizer::Tokenizer::Create(std::move(components));
}

}  // namespace

absl::StatusOr<std::unique_ptr<ZettBatchBuilder>> ZettBatchBuilder::Create(
    const tokenizer::Tokenizer& original, int32_t bos_id, int32_t pad_id,
    const ZettBatchOptions& options) {
  if (options.seq_len < 2 || options.max_len < 1 || options.vocab_rows < 1) {
    return absl::InvalidArgumentError(
        "batch builder: need seq_len >= 2, max_len >= 1, vocab_rows >= 1");
  }
  std::unique_ptr<ZettBatchBuilder> b(new ZettBatchBuilder());
  b->original_ = &original;
  ASSIGN_OR_RETURN(b->decomposer_, tokenizer::Decomposer::Create(original));
  b->specials_ = b->decomposer_->original_vocabulary().special_tokens;
  bool has_bos = false, has_pad = false;
  for (const auto& [id, content] : b->specials_) {
    has_bos = has_bos || id == bos_id;
    has_pad = has_pad || id == pad_id;
  }
  if (!has_bos || !has_pad) {
    return absl::InvalidArgumentError(absl::StrCat("batch builder: bos id ", bos_id, " and pad id ",
                                                   pad_id,
                                                   " must be special tokens of the original"));
  }
  b->bos_id_ = bos_id;
  b->pad_id_ = pad_id;
  b->original_size_ = b->decomposer_->original_vocabulary().original_size;
  b->options_ = options;
  tokenizer::DecomposeOptions identity;
  identity.max_len = static_cast<int>(options.max_len);
  identity.pad_id = pad_id;
  ASSIGN_OR_RETURN(b->identity_, b->decomposer_->Decompose(original, identity));
  return b;
}

absl::Status ZettBatchBuilder::FillVocabulary(const tokenizer::Decomposition& d,
                                              ZettBatch* batch) const {
  const int64_t P = options_.vocab_rows, L = d.max_len;
  const auto rows = static_cast<int64_t>(d.surface_forms.size());
  if (rows > P) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch: a vocabulary of ", rows, " rows does not fit vocab_rows = ", P));
  }
  batch->vocab_rows = rows;
  batch->truncated = d.n_truncated;
  batch->surface_forms = at::full({P, L}, d.pad_id, at::kInt);
  std::copy(d.ids.begin(), d.ids.end(), batch->surface_forms.data_ptr<int32_t>());
  batch->row_source = at::full({P}, -1, at::kLong);
  batch->aux_source = at::full({P}, -1, at::kLong);
  batch->vocab_bias = at::full({P}, kMaskedLogit, at::kFloat);
  batch->vocab_bias.narrow(0, 0, rows).zero_();
  int64_t* row_source = batch->row_source.data_ptr<int64_t>();
  int64_t* aux_source = batch->aux_source.data_ptr<int64_t>();
  for (int64_t r = 0; r < rows; ++r) {
    const int32_t* ids = d.ids.data() + r * L;
    const bool special = d.flags[r] & tokenizer::kSpecial;
    // A special token is [its id, pad, …], also when its id is the pad id itself.
    const bool single = (special || ids[0] != d.pad_id) && (L == 1 || ids[1] == d.pad_id);
    if (!single || ids[0] >= original_size_) continue;
    // Special tokens keep the original rows; other one-piece rows learn to be them (aux loss).
    (special ? row_source : aux_source)[r] = ids[0];
  }
  return absl::OkStatus();
}

absl::Status ZettBatchBuilder::FillRows(const std::vector<std::string>& texts,
                                        const std::vector<std::string>& fillers,
                                        const Encoder& encode,
                                        const std::vector<int64_t>& row_bytes, int64_t bos_row,
                                        int64_t pad_row, ZettBatch* batch) const {
  // A row holds T + 1 ids: inputs are the first T, labels the last T.
  const auto B = static_cast<int64_t>(texts.size());
  const int64_t T = options_.seq_len;
  batch->input_ids = at::full({B, T}, pad_row, at::kLong);
  batch->labels = at::full({B, T}, -100, at::kLong);
  auto ids_a = batch->input_ids.accessor<int64_t, 2>();
  auto labels_a = batch->labels.accessor<int64_t, 2>();
  size_t next_filler = 0;
  for (int64_t b = 0; b < B; ++b) {
    std::vector<int64_t> row;
    std::vector<bool> starts;  // row[t] is a BOS that opens a text: the label before it is masked
    auto append_text = [&](const std::string& text) -> absl::Status {
      ASSIGN_OR_RETURN(const std::vector<int32_t> ids, encode(text));
      batch->text_bytes += static_cast<int64_t>(text.size());
      row.push_back(bos_row);
      starts.push_back(true);
      for (int32_t id : ids) {
        if (static_cast<int64_t>(row.size()) > T) break;
        row.push_back(id);
        starts.push_back(false);
      }
      return absl::OkStatus();
    };
    RETURN_IF_ERROR(append_text(texts[b]));
    // A filler needs room for its BOS and at least one token.
    while (static_cast<int64_t>(row.size()) + 2 <= T + 1 && next_filler < fillers.size()) {
      RETURN_IF_ERROR(append_text(fillers[next_filler++]));
    }
    for (int64_t t = 0; t < T && t < static_cast<int64_t>(row.size()); ++t) {
      ids_a[b][t] = row[t];
      if (t + 1 < static_cast<int64_t>(row.size()) && !starts[t + 1]) {
        labels_a[b][t] = row[t + 1];
        ++batch->tokens;
        batch->label_bytes += row_bytes[row[t + 1]];
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ZettBatch> ZettBatchBuilder::Build(const std::vector<std::string>& texts,
                                                  const SampledTokenizer& sampled,
                                                  const std::vector<std::string>& fillers) const {
  const auto start = Clock::now();
  ASSIGN_OR_RETURN(auto sampled_tokenizer, SampledTokenizerPipeline(sampled));
  // Target vocabulary: the pieces, then the original special tokens (kept atomic).
  std::vector<std::string> surface_forms = sampled.pieces;
  std::vector<uint8_t> flags(surface_forms.size(), 0);
  int64_t target_bos = -1, target_pad = -1;
  for (const auto& [id, content] : specials_) {
    if (id == bos_id_) target_bos = static_cast<int64_t>(surface_forms.size());
    if (id == pad_id_) target_pad = static_cast<int64_t>(surface_forms.size());
    surface_forms.push_back(content);
    flags.push_back(tokenizer::kSpecial);
  }
  std::vector<int64_t> row_bytes(surface_forms.size(), 0);
  for (size_t i = 0; i < sampled.pieces.size(); ++i) row_bytes[i] = SpelledBytes(sampled.pieces[i]);
  const tokenizer::Decomposition d = decomposer_->DecomposeSurfaceForms(
      std::move(surface_forms), std::move(flags), static_cast<int>(options_.max_len), pad_id_);
  ZettBatch batch;
  RETURN_IF_ERROR(FillVocabulary(d, &batch));
  const Encoder encode = [&](const std::string& text) { return sampled_tokenizer->Encode(text); };
  RETURN_IF_ERROR(FillRows(texts, fillers, encode, row_bytes, target_bos, target_pad, &batch));
  batch.cpu_seconds = SecondsSince(start);
  return batch;
}

absl::StatusOr<ZettBatch> ZettBatchBuilder::BuildIdentity(
    const std::vector<std::string>& texts, const std::vector<std::string>& fillers) const {
  const auto start = Clock::now();
  ZettBatch batch;
  batch.identity = true;
  RETURN_IF_ERROR(FillVocabulary(identity_, &batch));
  // The original's special tokens sit at their own ids, so an original id is its row.
  std::vector<int64_t> row_bytes(identity_.surface_forms.size(), 0);
  for (size_t r = 0; r < row_bytes.size(); ++r) {
    if (!(identity_.flags[r] & tokenizer::kSpecial)) {
      row_bytes[r] = SpelledBytes(identity_.surface_forms[r]);
    }
  }
  const Encoder encode = [&](const std::string& text) { return original_->Encode(text); };
  RETURN_IF_ERROR(FillRows(texts, fillers, encode, row_bytes, bos_id_, pad_id_, &batch));
  batch.cpu_seconds = SecondsSince(start);
  return batch;
}

ZettBatch ZettBatchBuilder::BuildMimick(int64_t count, uint64_t seed, int64_t step) const {
  const auto start = Clock::now();
  std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(step),
                    static_cast<uint32_t>(step >> 32), 0x6d696d69u};
  std::mt19937_64 rng(seq);
  std::vector<bool> special(original_size_, false);
  for (const auto& [id, content] : specials_) {
    if (id < original_size_) special[id] = true;
  }
  std::vector<int64_t> ids;
  std::uniform_int_distribution<int64_t> pick(0, original_size_ - 1);
  while (static_cast<int64_t>(ids.size()) < count) {
    const int64_t id = pick(rng);
    if (!special[id]) ids.push_back(id);
  }
  ZettBatch batch;
  batch.step = step;
  batch.mimick = true;
  at::Tensor idt = at::tensor(ids, at::kLong);
  batch.surface_forms = idt.to(at::kInt).unsqueeze(1);  // [count, 1]
  batch.vocab_rows = count;
  batch.row_source = at::full({count}, -1, at::kLong);
  batch.aux_source = idt;
  batch.vocab_bias = at::zeros({count}, at::kFloat);
  batch.cpu_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return batch;
}

}  // namespace zett
