// A complete tokenizer: added tokens -> normalizer -> pre-tokenizer -> model (-> special tokens),
// the pipeline of Hugging Face `tokenizers`. Built from tokenizer.json (tokenizer_json.h), a
// SentencePiece .model (sentencepiece_model.h) or from code (the training sampler).
// Thread-safe for concurrent Encode calls.
#ifndef ZETT_CORE_TOKENIZER_TOKENIZER_H_
#define ZETT_CORE_TOKENIZER_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "core/tokenizer/added_vocabulary.h"
#include "core/tokenizer/model.h"
#include "core/tokenizer/normalizer.h"
#include "core/tokenizer/post_processor.h"
#include "core/tokenizer/pre_tokenizer.h"
#include "core/tokenizer/special_tokens_map.h"

namespace zett::tokenizer {

class Tokenizer {
 public:
  struct Components {
    std::unique_ptr<Normalizer> normalizer;       // may be null
    std::unique_ptr<PreTokenizer> pre_tokenizer;  // may be null
    std::unique_ptr<Model> model;                 // required
    std::vector<AddedToken> added_tokens;
    PostProcessor post_processor;
    // What zett's byte-level conversion needs to know about the source file: whether a
    // ByteLevel pre-tokenizer is present (alone or in a Sequence), and the model's
    // continuing_subword_prefix when the file sets one (even "").
    bool byte_level = false;
    std::optional<std::string> continuing_subword_prefix;
  };
  // Fails when the model is missing or an added token's id collides with a different token.
  static absl::StatusOr<std::unique_ptr<Tokenizer>> Create(Components components);

  // Ids of `text` (valid UTF-8 required). Special tokens from the post-processor are added
  // only when asked.
  absl::StatusOr<std::vector<int32_t>> Encode(std::string_view text,
                                              bool add_special_tokens = false) const;
  // Normalizer + pre-tokenizer on `text` (no added tokens, no model): the pieces.
  absl::StatusOr<std::vector<std::string>> PreTokenize(std::string_view text) const;

  const Model& model() const { return *components_.model; }
  const std::vector<AddedToken>& added_tokens() const { return components_.added_tokens; }
  bool byte_level() const { return components_.byte_level; }
  const std::optional<std::string>& continuing_subword_prefix() const {
    return components_.continuing_subword_prefix;
  }
  const Normalizer* normalizer() const { return components_.normalizer.get(); }
  // 1 + the largest id of the model vocabulary or an added token (transformers' len()).
  int32_t vocab_size() const { return vocab_size_; }
  // Added-token content for added ids, else the model's token ("" for a hole).
  std::string_view IdToToken(int32_t id) const;
  std::optional<int32_t> TokenToId(std::string_view token) const;
  // Ids of added tokens with special=true, ascending (tokenizer.json's own flag).
  std::vector<int32_t> SpecialTokenIds() const;
  bool IsSpecial(int32_t id) const;

  // What transformers calls special (tokenizer_config.json / special_tokens_map.json, see
  // special_tokens_map.h). Set by the loaders when those files were given.
  void SetSpecialTokensMap(SpecialTokensMap map) { special_tokens_map_ = std::move(map); }
  const std::optional<SpecialTokensMap>& special_tokens_map() const { return special_tokens_map_; }
  // (id, content) of transformers' all_special_tokens, in its order: from the special tokens map
  // when set (tokens missing from the vocabulary skipped), else the special=true added tokens.
  std::vector<std::pair<int32_t, std::string>> AllSpecialTokens() const;
  // The id of a named special token ("pad_token", "eos_token", …) from the map, if set and known.
  std::optional<int32_t> NamedSpecialTokenId(std::string_view attribute) const;

 private:
  explicit Tokenizer(Components components) : components_(std::move(components)) {}
  absl::Status EncodeSegment(std::string_view segment, bool at_origin,
                             std::vector<int32_t>* ids) const;

  Components components_;
  AddedTokenMatcher raw_matcher_, normalized_matcher_;
  absl::flat_hash_map<int32_t, size_t> added_by_id_;
  absl::flat_hash_map<std::string, int32_t> added_by_content_;
  int32_t vocab_size_ = 0;
  std::optional<SpecialTokensMap> special_tokens_map_;
};

}  // namespace zett::tokenizer

#endif  // ZETT_CORE_TOKENIZER_TOKENIZER_H_
