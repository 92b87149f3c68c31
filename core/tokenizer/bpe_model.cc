#include "core/tokenizer/bpe_model.h"

#include "absl/strings/str_cat.h"
#include "core/tokenizer/unicode_text.h"

namespace zett::tokenizer {

absl::StatusOr<std::unique_ptr<BpeModel>> BpeModel::Create(
    Vocab vocab, const std::vector<std::pair<std::string, std::string>>& merges, BpeOptions options,
    bool skip_invalid_merges) {
  auto model = std::unique_ptr<BpeModel>(new BpeModel(std::move(vocab), std::move(options)));
  const Vocab& v = model->vocab_;
  if (model->options_.unk_token) {
    model->unk_id_ = v.Find(*model->options_.unk_token);
    if (!model->unk_id_) {
      return absl::InvalidArgumentError(
          Cat("BPE: unk_token '", *model->options_.unk_token, "' is not in the vocabulary"));
    }
  }
  const size_t prefix_len = model->options_.continuing_subword_prefix.size();
  model->merge_map_.reserve(merges.size());
  model->merges_.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [a, b] = merges[rank];
    const auto a_id = v.Find(a);
    const auto b_id = v.Find(b);
    if ((!a_id || !b_id) && skip_invalid_merges) continue;
    if (!a_id || !b_id) {
      return absl::InvalidArgumentError(Cat("BPE merge ", rank, " ('", a, "', '", b, "'): part '",
                                            !a_id ? a : b, "' is not in the vocabulary"));
    }
    if (b.size() < prefix_len) {
      return absl::InvalidArgumentError(
          Cat("BPE merge ", rank, ": '", b, "' is shorter than continuing_subword_prefix"));
    }
    const std::string merged = Cat(a, std::string_view(b).substr(prefix_len));
    const auto merged_id = v.Find(merged);
    if (!merged_id && skip_invalid_merges) continue;
    if (!merged_id) {
      return absl::InvalidArgumentError(Cat("BPE merge ", rank, " ('", a, "', '", b, "'): result '",
                                            merged, "' is not in the vocabulary"));
    }
    model->merge_map_[MergeKey(*a_id, *b_id)] = {static_cast<int32_t>(rank), *merged_id};
    model->merges_.emplace_back(*a_id, *b_id);
  }
  model->byte_fallback_ids_.assign(256, -1);
  for (int b = 0; b < 256; ++b) {
    if (auto id = v.Find(ByteFallbackToken(static_cast<uint8_t>(b)))) {
      model->byte_fallback_ids_[b] = *id;
    }
  }
  return model;
}

absl::Status BpeModel::Tokenize(std::string_view piece, std::vector<int32_t>* ids) const {
  if (piece.empty()) return absl::OkStatus();
  if (options_.ignore_merges) {
    if (auto id = vocab_.Find(piece)) {
      ids->push_back(*id);
      return absl::OkStatus();
    }
  }
  if (cache_.Lookup(piece, ids)) return absl::OkStatus();
  std::vector<int32_t> symbols;
  symbols.reserve(piece.size());
  std::optional<int32_t> pending_unk;
  std::string buffer;
  size_t pos = 0;
  while (pos < piece.size()) {
    const int len = Utf8Length(static_cast<unsigned char>(piece[pos]));
    const std::string_view ch = piece.substr(pos, len);
    const bool first = pos == 0;
    pos += len;
    const bool last = pos >= piece.size();
    std::optional<int32_t> id;
    if ((first || options_.continuing_subword_prefix.empty()) &&
        (!last || options_.end_of_word_suffix.empty())) {
      id = vocab_.Find(ch);
    } else {
      buffer.clear();
      if (!first) buffer += options_.continuing_subword_prefix;
      buffer += ch;
      if (last) buffer += options_.end_of_word_suffix;
      id = vocab_.Find(buffer);
    }
    if (id) {
      if (pending_unk) {
        symbols.push_back(*pending_unk);
        pending_unk.reset();
      }
      symbols.push_back(*id);
      continue;
    }
    if (options_.byte_fallback) {
      bool all = true;
      for (char b : ch) all = all && byte_fallback_ids_[static_cast<uint8_t>(b)] >= 0;
      if (all) {
        for (char b : ch) symbols.push_back(byte_fallback_ids_[static_cast<uint8_t>(b)]);
        continue;
      }
    }
    if (unk_id_) {
      if (pending_unk && !options_.fuse_unk) symbols.push_back(*pending_unk);
      pending_unk = unk_id_;
    }  // else: HF drops a char it can represent in no way
  }
  if (pending_unk) symbols.push_back(*pending_unk);
  ApplyMerges(merge_map_, &symbols);
  cache_.Insert(piece, symbols, 0);
  ids->insert(ids->end(), symbols.begin(), symbols.end());
  return absl::OkStatus();
}

}  // namespace zett::tokenizer
