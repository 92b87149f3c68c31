#include "core/tokenizer/wordpiece_model.h"

#include "absl/strings/str_cat.h"
#include "core/tokenizer/unicode_text.h"

namespace zett::tokenizer {

absl::StatusOr<std::unique_ptr<WordPieceModel>> WordPieceModel::Create(
    Vocab vocab, std::string unk_token, std::string continuing_subword_prefix,
    int max_input_chars_per_word) {
  auto model = std::unique_ptr<WordPieceModel>(new WordPieceModel());
  const auto unk = vocab.Find(unk_token);
  if (!unk) {
    return absl::InvalidArgumentError(
        Cat("WordPiece: unk_token '", unk_token, "' is not in the vocabulary"));
  }
  model->unk_id_ = *unk;
  model->vocab_ = std::move(vocab);
  model->prefix_ = std::move(continuing_subword_prefix);
  model->max_chars_ = max_input_chars_per_word;
  return model;
}

absl::Status WordPieceModel::Tokenize(std::string_view word, std::vector<int32_t>* ids) const {
  if (word.empty()) return absl::OkStatus();
  std::vector<size_t> boundaries;  // char start offsets, then word.size()
  for (size_t pos = 0; pos < word.size();
       pos += Utf8Length(static_cast<unsigned char>(word[pos]))) {
    boundaries.push_back(pos);
  }
  if (static_cast<int>(boundaries.size()) > max_chars_) {
    ids->push_back(unk_id_);
    return absl::OkStatus();
  }
  boundaries.push_back(word.size());
  const size_t first = ids->size();
  std::string candidate;
  size_t start = 0;  // index into boundaries
  while (start + 1 < boundaries.size()) {
    std::optional<int32_t> found;
    size_t end = boundaries.size() - 1;
    for (; end > start; --end) {
      candidate.clear();
      if (start > 0) candidate += prefix_;
      candidate += word.substr(boundaries[start], boundaries[end] - boundaries[start]);
      if ((found = vocab_.Find(candidate))) break;
    }
    if (!found) {
      ids->resize(first);
      ids->push_back(unk_id_);
      return absl::OkStatus();
    }
    ids->push_back(*found);
    start = end;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<WordLevelModel>> WordLevelModel::Create(Vocab vocab,
                                                                       std::string unk_token) {
  auto model = std::unique_ptr<WordLevelModel>(new WordLevelModel());
  model->unk_id_ = vocab.Find(unk_token);
  model->unk_token_ = std::move(unk_token);
  model->vocab_ = std::move(vocab);
  return model;
}

absl::Status WordLevelModel::Tokenize(std::string_view piece, std::vector<int32_t>* ids) const {
  if (auto id = vocab_.Find(piece)) {
    ids->push_back(*id);
    return absl::OkStatus();
  }
  if (!unk_id_) {
    return absl::InvalidArgumentError(Cat("WordLevel: '", piece, "' is unknown and unk_token '",
                                          unk_token_, "' is not in the vocabulary"));
  }
  ids->push_back(*unk_id_);
  return absl::OkStatus();
}

}  // namespace zett::tokenizer
