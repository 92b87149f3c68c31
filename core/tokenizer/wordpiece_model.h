// WordPiece (BERT) as in Hugging Face `tokenizers`: greedy longest-match-first, non-initial
// pieces carry continuing_subword_prefix ("##"); a word with an unmatched rest, or longer than
// max_input_chars_per_word chars, becomes the single unknown token.
#ifndef ZETT_CORE_TOKENIZER_WORDPIECE_MODEL_H_
#define ZETT_CORE_TOKENIZER_WORDPIECE_MODEL_H_

#include <memory>
#include <string>

#include "core/tokenizer/model.h"

namespace zett::tokenizer {

class WordPieceModel : public Model {
 public:
  // Fails when unk_token is not in the vocabulary.
  static absl::StatusOr<std::unique_ptr<WordPieceModel>> Create(
      Vocab vocab, std::string unk_token, std::string continuing_subword_prefix,
      int max_input_chars_per_word);
  ModelType type() const override { return ModelType::kWordPiece; }
  absl::Status Tokenize(std::string_view piece, std::vector<int32_t>* ids) const override;
  const Vocab& vocab() const override { return vocab_; }
  const std::string& continuing_subword_prefix() const { return prefix_; }
  int32_t unk_id() const { return unk_id_; }
  int max_input_chars_per_word() const { return max_chars_; }

 private:
  WordPieceModel() = default;
  Vocab vocab_;
  int32_t unk_id_ = 0;
  std::string prefix_;
  int max_chars_ = 100;
};

// WordLevel: the whole piece is a token, or the unknown token.
class WordLevelModel : public Model {
 public:
  static absl::StatusOr<std::unique_ptr<WordLevelModel>> Create(Vocab vocab, std::string unk_token);
  ModelType type() const override { return ModelType::kWordLevel; }
  absl::Status Tokenize(std::string_view piece, std::vector<int32_t>* ids) const override;
  const Vocab& vocab() const override { return vocab_; }

 private:
  WordLevelModel() = default;
  Vocab vocab_;
  std::optional<int32_t> unk_id_;
  std::string unk_token_;
};

}  // namespace zett::tokenizer

#endif  // ZETT_CORE_TOKENIZER_WORDPIECE_MODEL_H_
