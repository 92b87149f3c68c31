#include "core/train/zett_batch.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <random>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/tokenizer/normalizer.h"
#include "core/tokenizer/pre_tokenizer.h"
#include "core/tokenizer/surface_form.h"
#include "core/tokenizer/unigram_model.h"
#include "core/train/text_corpus.h"
#include "core/util/status_macros.h"

namespace zett {
namespace {

using Clock = std::chrono::steady_clock;

// Longest prefix of `text` of at most `max_bytes` bytes that ends on a UTF-8 char boundary.
std::string CutUtf8(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end));
}

// Start offset of a span: the first char boundary at or after `offset`.
size_t CharBoundary(std::string_view text, size_t offset) {
  while (offset < text.size() && (static_cast<unsigned char>(text[offset]) & 0xC0) == 0x80) {
    ++offset;
  }
  return offset;
}

std::vector<std::string> ReadDocuments(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> docs;
  std::string line, doc;
  while (std::getline(in, line)) {
    if (line.empty()) {
      if (!doc.empty()) docs.push_back(std::move(doc));
      doc.clear();
      continue;
    }
    if (!doc.empty()) doc += '\n';
    doc += line;
  }
  if (!doc.empty()) docs.push_back(std::move(doc));
  return docs;
}

}  // namespace

absl::StatusOr<TrainingTexts> TrainingTexts::Load(const std::string& spec) {
  ASSIGN_OR_RETURN(auto paths, ExpandFileList(spec));
  std::vector<std::vector<std::string>> docs;
  std::vector<std::string> names;
  for (const auto& path : paths) {
    auto d = ReadDocuments(path);
    if (d.empty()) continue;
    docs.push_back(std::move(d));
    const size_t slash = path.find_last_of('/');
    std::string name = path.substr(slash == std::string::npos ? 0 : slash + 1);
    names.push_back(name.substr(0, name.find('.')));
  }
  if (docs.empty()) return absl::NotFoundError(absl::StrCat("no documents in '", spec, "'"));
  return FromDocuments(std::move(docs), std::move(names));
}

TrainingTexts TrainingTexts::FromDocuments(std::vector<std::vector<std::string>> per_language,
                                           std::vector<std::string> names) {
  TrainingTexts t;
  t.documents_ = std::move(per_language);
  t.names_ = std::move(names);
  return t;
}

int64_t TrainingTexts::documents() const {
  int64_t n = 0;
  for (const auto& d : documents_) n += static_cast<int64_t>(d.size());
  return n;
}

std::vector<std::string> TrainingTexts::Sample(int64_t count, int64_t max_bytes, double alpha,
                                               uint64_t seed, int64_t step) const {
  std::vector<double> weights;
  for (const auto& d : documents_)
    weights.push_back(std::pow(static_cast<double>(d.size()), alpha));
  std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                    static_cast<uint32_t>(step), static_cast<uint32_t>(step >> 32), 0x7a657474u};
  std::mt19937_64 rng(seq);
  std::discrete_distribution<size_t> pick_language(weights.begin(), weights.end());
  std::vector<std::string> out;
  out.reserve(count);
  for (int64_t i = 0; i < count; ++i) {
    const auto& docs = documents_[pick_language(rng)];
    const std::string& doc = docs[std::uniform_int_distribution<size_t>(0, docs.size() - 1)(rng)];
    size_t start = 0;
    if (doc.size() > static_cast<size_t>(max_bytes)) {
      start = CharBoundary(doc, std::uniform_int_distribution<size_t>(
                                    0, doc.size() - static_cast<size_t>(max_bytes))(rng));
    }
    out.push_back(CutUtf8(std::string_view(doc).substr(start), max_bytes));
  }
  return out;
}

std::vector<std::string> TrainingTexts::Leading(int64_t per_language, int64_t max_bytes) const {
  std::vector<std::string> out;
  for (const auto& docs : documents_) {
    for (int64_t i = 0; i < per_language && i < static_cast<int64_t>(docs.size()); ++i) {
      out.push_back(CutUtf8(docs[i], max_bytes));
    }
  }
  return out;
}

absl::StatusOr<std::unique_ptr<ZettBatchBuilder>> ZettBatchBuilder::Create(
    const tokenizer::Tokenizer& original, int32_t bos_id, int32_t pad_id,
    const ZettBatchOptions& options) {
  if (options.seq_len < 2 || options.max_len < 1 || options.vocab_multiple < 1) {
    return absl::InvalidArgumentError("batch builder: need seq_len >= 2, max_len >= 1");
  }
  std::unique_ptr<ZettBatchBuilder> b(new ZettBatchBuilder());
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
  return b;
}

absl::StatusOr<ZettBatch> ZettBatchBuilder::Build(const std::vector<std::string>& texts,
                                                  const SampledTokenizer& sampled) const {
  const auto start = Clock::now();
  // The sampled tokenizer: zett's byte-level pipeline around the sampled UnigramLM.
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
  ASSIGN_OR_RETURN(auto sampled_tokenizer, tokenizer::Tokenizer::Create(std::move(components)));

  // Target vocabulary: the pieces, then the original special tokens (kept atomic).
  const int64_t k = static_cast<int64_t>(sampled.pieces.size());
  std::vector<std::string> surface_forms = sampled.pieces;
  std::vector<uint8_t> flags(surface_forms.size(), 0);
  ZettBatch batch;
  int64_t target_bos = -1, target_pad = -1;
  for (const auto& [id, content] : specials_) {
    const int64_t target = static_cast<int64_t>(surface_forms.size());
    surface_forms.push_back(content);
    flags.push_back(tokenizer::kSpecial);
    batch.special_target_ids.push_back(target);
    batch.special_source_ids.push_back(id);
    if (id == bos_id_) target_bos = target;
    if (id == pad_id_) target_pad = target;
  }
  const int64_t vocab = static_cast<int64_t>(surface_forms.size());
  // Bytes a piece spells: one byte char per byte; special tokens spell none.
  std::vector<int64_t> piece_bytes(vocab, 0);
  for (int64_t i = 0; i < k; ++i) {
    for (unsigned char c : surface_forms[i]) piece_bytes[i] += (c & 0xC0) != 0x80;
  }
  tokenizer::Decomposition d = decomposer_->DecomposeSurfaceForms(
      std::move(surface_forms), std::move(flags), static_cast<int>(options_.max_len), pad_id_);
  const int64_t L = d.max_len;
  batch.surface_forms = at::from_blob(d.ids.data(), {vocab, L}, at::kInt).clone();  // [V', L]
  batch.truncated = d.n_truncated;
  std::vector<int64_t> aux_target, aux_source;
  for (int64_t r = 0; r < k; ++r) {
    const int32_t* row = d.ids.data() + r * L;
    const bool single = row[0] != d.pad_id && (L == 1 || row[1] == d.pad_id);
    if (single && row[0] < original_size_) {
      aux_target.push_back(r);
      aux_source.push_back(row[0]);
    }
  }
  batch.aux_target_ids = at::tensor(aux_target, at::kLong);
  batch.aux_source_ids = at::tensor(aux_source, at::kLong);
  batch.vocab_rows = vocab;
  batch.padded_vocab_rows =
      (vocab + options_.vocab_multiple - 1) / options_.vocab_multiple * options_.vocab_multiple;

  // Rows: BOS + ids, truncated to T + 1 (inputs are the first T, labels the last T).
  const int64_t B = static_cast<int64_t>(texts.size()), T = options_.seq_len;
  batch.input_ids = at::full({B, T}, target_pad, at::kLong);
  batch.attention_mask = at::zeros({B, T}, at::kLong);
  batch.labels = at::full({B, T}, -100, at::kLong);
  auto ids_a = batch.input_ids.accessor<int64_t, 2>();
  auto mask_a = batch.attention_mask.accessor<int64_t, 2>();
  auto labels_a = batch.labels.accessor<int64_t, 2>();
  for (int64_t b = 0; b < B; ++b) {
    batch.text_bytes += static_cast<int64_t>(texts[b].size());
    ASSIGN_OR_RETURN(std::vector<int32_t> ids, sampled_tokenizer->Encode(texts[b]));
    std::vector<int64_t> row = {target_bos};
    for (int32_t id : ids) {
      if (static_cast<int64_t>(row.size()) > T) break;
      row.push_back(id);
    }
    for (int64_t t = 0; t < T && t < static_cast<int64_t>(row.size()); ++t) {
      ids_a[b][t] = row[t];
      mask_a[b][t] = 1;
      if (t + 1 < static_cast<int64_t>(row.size())) {
        labels_a[b][t] = row[t + 1];
        ++batch.tokens;
        batch.label_bytes += piece_bytes[row[t + 1]];
      }
    }
  }
  batch.cpu_seconds = std::chrono::duration<double>(Clock::now() - start).count();
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
  batch.padded_vocab_rows = count;
  batch.aux_target_ids = at::arange(count, at::kLong);
  batch.aux_source_ids = idt;
  batch.cpu_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return batch;
}

BatchPrefetcher::BatchPrefetcher(Producer produce, int64_t first, int64_t end, size_t capacity)
    : produce_(std::move(produce)),
      next_(first),
      end_(end),
      capacity_(std::max<size_t>(1, capacity)),
      delivered_(first) {
  thread_ = std::thread([this] { Run(); });
}

BatchPrefetcher::~BatchPrefetcher() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void BatchPrefetcher::Run() {
  for (int64_t step = next_; step < end_; ++step) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [this] { return stop_ || queue_.size() < capacity_; });
      if (stop_) return;
    }
    absl::StatusOr<ZettBatch> batch = produce_(step);
    if (batch.ok()) batch->step = step;
    const bool failed = !batch.ok();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(std::move(batch));
    }
    changed_.notify_all();
    if (failed) return;
  }
}

absl::StatusOr<ZettBatch> BatchPrefetcher::Next() {
  if (delivered_ >= end_) return absl::OutOfRangeError("prefetcher: no steps left");
  const auto start = Clock::now();
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [this] { return !queue_.empty(); });
  wait_seconds_ += std::chrono::duration<double>(Clock::now() - start).count();
  absl::StatusOr<ZettBatch> batch = std::move(queue_.front());
  queue_.pop_front();
  lock.unlock();
  changed_.notify_all();
  ++delivered_;
  return batch;
}

}  // namespace zett
