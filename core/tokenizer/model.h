// The model step of a tokenizer: one normalized, pre-tokenized piece -> token ids. This is also
// what zett's decomposition calls on a byte-level surface form (`model.tokenize`, no
// normalizer or pre-tokenizer).
#ifndef ZETT_CORE_TOKENIZER_MODEL_H_
#define ZETT_CORE_TOKENIZER_MODEL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/tokenizer/unicode_text.h"

namespace zett::tokenizer {

enum class ModelType { kBpe, kUnigram, kWordPiece, kWordLevel };

// token <-> id table. Ids may have holes (id_to_token is "" there); tokens and ids are unique.
class Vocab {
 public:
  // Fails on a duplicate id or a negative id, and on a duplicate token unless
  // `last_token_wins` (then the later id is the token's id, as HF's Unigram does); `where`
  // prefixes the message.
  static absl::StatusOr<Vocab> Create(std::vector<std::pair<std::string, int32_t>> entries,
                                      std::string_view where, bool last_token_wins = false);
  std::optional<int32_t> Find(std::string_view token) const {
    auto it = token_to_id_.find(AsAbsl(token));
    if (it == token_to_id_.end()) return std::nullopt;
    return it->second;
  }
  std::string_view Token(int32_t id) const {
    return id >= 0 && id < static_cast<int32_t>(id_to_token_.size()) ? id_to_token_[id]
                                                                     : std::string_view();
  }
  int32_t size() const { return static_cast<int32_t>(id_to_token_.size()); }
  size_t count() const { return token_to_id_.size(); }

 private:
  absl::flat_hash_map<std::string, int32_t> token_to_id_;
  std::vector<std::string> id_to_token_;
};

class Model {
 public:
  virtual ~Model() = default;
  virtual ModelType type() const = 0;
  // Appends the ids of `piece`. Fails only when the model cannot represent a char and has no
  // unknown token to fall back on.
  virtual absl::Status Tokenize(std::string_view piece, std::vector<int32_t>* ids) const = 0;
  virtual const Vocab& vocab() const = 0;
  // Models with a piece cache (BPE, Unigram) drop it; for one-off inputs such as a
  // vocabulary being decomposed, where every piece is new.
  virtual void DisableCache() {}
};

// A bounded, thread-safe piece -> ids cache (as in HF's BPE/Unigram models).
class PieceCache {
 public:
  explicit PieceCache(size_t capacity = 1 << 16) : capacity_(capacity) {}
  void Disable() { capacity_ = 0; }
  bool Lookup(std::string_view piece, std::vector<int32_t>* ids) const;
  void Insert(std::string_view piece, const std::vector<int32_t>& ids, size_t first) const;

 private:
  size_t capacity_;
  mutable absl::Mutex mutex_;
  mutable absl::flat_hash_map<std::string, std::vector<int32_t>> map_ ABSL_GUARDED_BY(mutex_);
};

// Hugging Face's byte-fallback token name for a byte: "<0x41>".
std::string ByteFallbackToken(uint8_t byte);

}  // namespace zett::tokenizer

#endif  // ZETT_CORE_TOKENIZER_MODEL_H_
