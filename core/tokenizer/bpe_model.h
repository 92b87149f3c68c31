// Byte-pair encoding as in Hugging Face `tokenizers` (models/bpe): chars (with optional
// continuing_subword_prefix / end_of_word_suffix) are looked up, unknown ones go to byte
// fallback `<0xNN>` tokens or the unknown token (fused when fuse_unk), then the
// lowest-ranked merge is applied repeatedly (leftmost on ties).
#ifndef ZETT_CORE_TOKENIZER_BPE_MODEL_H_
#define ZETT_CORE_TOKENIZER_BPE_MODEL_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/tokenizer/bpe_merge.h"
#include "core/tokenizer/model.h"

namespace zett::tokenizer {

struct BpeOptions {
  std::optional<std::string> unk_token;
  std::string continuing_subword_prefix;
  std::string end_of_word_suffix;
  bool fuse_unk = false;
  bool byte_fallback = false;
  // Return a piece that is itself a token without merging (Llama-3).
  bool ignore_merges = false;
};

class BpeModel : public Model {
 public:
  // `merges` in rank order. Fails when a merge part or result is not in the vocabulary (unless
  // `skip_invalid_merges`, used for zett's converted vocabularies), or
  // unk_token is set but missing. A merge listed twice keeps its last rank (as HF does).
  static absl::StatusOr<std::unique_ptr<BpeModel>> Create(
      Vocab vocab, const std::vector<std::pair<std::string, std::string>>& merges,
      BpeOptions options, bool skip_invalid_merges = false);

  ModelType type() const override { return ModelType::kBpe; }
  absl::Status Tokenize(std::string_view piece, std::vector<int32_t>* ids) const override;
  const Vocab& vocab() const override { return vocab_; }
  void DisableCache() override { cache_.Disable(); }
  const BpeOptions& options() const { return options_; }
  // Merges in rank order, as token pairs (for byte-level conversion).
  const std::vector<std::pair<int32_t, int32_t>>& merges() const { return merges_; }

 private:
  BpeModel(Vocab vocab, BpeOptions options)
      : vocab_(std::move(vocab)), options_(std::move(options)) {}

  Vocab vocab_;
  BpeOptions options_;
  std::optional<int32_t> unk_id_;
  std::vector<std::pair<int32_t, int32_t>> merges_;
  MergeMap merge_map_;
  std::vector<int32_t> byte_fallback_ids_;  // 256 entries, -1 when absent
  PieceCache cache_;
};

}  // namespace zett::tokenizer

#endif  // ZETT_CORE_TOKENIZER_BPE_MODEL_H_
