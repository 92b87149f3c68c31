// Unigram language model tokenization (Kudo 2018) as in Hugging Face `tokenizers`
// (models/unigram): Viterbi over char boundaries with piece log-probabilities; a char no piece
// covers becomes the unknown token scored min_score - 10; consecutive unknowns are fused;
// unknown text goes to `<0xNN>` byte tokens when byte_fallback and all exist.
#ifndef ZETT_CORE_TOKENIZER_UNIGRAM_MODEL_H_
#define ZETT_CORE_TOKENIZER_UNIGRAM_MODEL_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/tokenizer/model.h"

namespace zett::tokenizer {

class UnigramModel : public Model {
 public:
  // pieces[i] = (piece, log-probability) gets id i. Fails on empty pieces and an out-of-range
  // unk_id; a duplicate piece resolves to its last id (as in HF). Pieces marked
  // `unmatchable` (SentencePiece CONTROL/UNUSED/BYTE pieces) keep their id but never match text.
  // Constructible from memory (the ZeTT tokenizer sampler builds one per step), not only from JSON.
  static absl::StatusOr<std::unique_ptr<UnigramModel>> Create(
      std::vector<std::pair<std::string, double>> pieces, std::optional<int32_t> unk_id,
      bool byte_fallback, const std::vector<bool>& unmatchable = {});

  ModelType type() const override { return ModelType::kUnigram; }
  absl::Status Tokenize(std::string_view piece, std::vector<int32_t>* ids) const override;
  const Vocab& vocab() const override { return vocab_; }
  void DisableCache() override { cache_.Disable(); }
  const std::vector<double>& scores() const { return scores_; }
  std::optional<int32_t> unk_id() const { return unk_id_; }
  bool byte_fallback() const { return byte_fallback_; }

 private:
  UnigramModel() = default;
  int32_t Child(int32_t node, unsigned char byte) const {
    auto it = trie_.find((static_cast<uint64_t>(node) << 8) | byte);
    return it == trie_.end() ? -1 : it->second;
  }

  Vocab vocab_;
  std::vector<double> scores_;
  std::optional<int32_t> unk_id_;
  bool byte_fallback_ = false;
  double unk_score_ = 0;
  // Byte trie over pieces: (node << 8 | byte) -> child node; node_token_[node] = id or -1.
  absl::flat_hash_map<uint64_t, int32_t> trie_;
  std::vector<int32_t> node_token_;
  std::vector<int32_t> byte_fallback_ids_;
  PieceCache cache_;
};

}  // namespace zett::tokenizer

#endif  // ZETT_CORE_TOKENIZER_UNIGRAM_MODEL_H_
