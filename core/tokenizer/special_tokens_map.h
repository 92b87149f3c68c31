// Which tokens transformers' AutoTokenizer calls special (`all_special_tokens`), read from the
// tokenizer_config.json / special_tokens_map.json that sit beside a tokenizer.json. zett treats
// exactly these as special: the original's keep their rows, the target's are replaced by the
// original's. Other added tokens, even with "special": true in tokenizer.json (Llama 3's
// <|eot_id|>, reserved tokens), are ordinary vocabulary that gets predicted rows.
//
// The rules are transformers 5's (PreTrainedTokenizerBase._from_pretrained and __init__):
//  - tokenizer_config.json gives the named tokens (bos, eos, unk, sep, pad, cls, mask; a value is
//    a string, an AddedToken object with "content", or null), model-specific `*_token` keys (e.g.
//    Gemma 3's boi_token), `extra_special_tokens` (a list, or a dict of model-specific names) and
//    the deprecated `additional_special_tokens` (= extra when extra is absent);
//  - special_tokens_map.json is read only when tokenizer_config.json has no
//    "added_tokens_decoder" (the legacy layout), and then its keys override;
//  - a few tokenizer classes supply defaults for named tokens the config does not set;
//  - order: named tokens in attribute order, model-specific ones in file order, then the extra
//    list; duplicates dropped.
#ifndef ZETT_CORE_TOKENIZER_SPECIAL_TOKENS_MAP_H_
#define ZETT_CORE_TOKENIZER_SPECIAL_TOKENS_MAP_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace zett::tokenizer {

struct SpecialTokensMap {
  // (attribute, token) in transformers' order: bos_token, eos_token, unk_token, sep_token,
  // pad_token, cls_token, mask_token, then model-specific attributes. Unset ones are absent.
  std::vector<std::pair<std::string, std::string>> named;
  std::vector<std::string> extra;  // extra_special_tokens

  // transformers' all_special_tokens: named then extra, first occurrence kept.
  std::vector<std::string> AllSpecialTokens() const;
  // The token of a named attribute ("bos_token"), if set.
  std::optional<std::string> Named(std::string_view attribute) const;
};

// The files' contents as read from disk (or sent in a request); either may be absent.
struct TokenizerConfigFiles {
  std::optional<std::string> tokenizer_config_json;
  std::optional<std::string> special_tokens_map_json;

  bool empty() const { return !tokenizer_config_json && !special_tokens_map_json; }
  // From contents where an empty string means the file is absent (as a request sends them).
  static TokenizerConfigFiles FromContents(const std::string& tokenizer_config_json,
                                           const std::string& special_tokens_map_json) {
    TokenizerConfigFiles files;
    if (!tokenizer_config_json.empty()) files.tokenizer_config_json = tokenizer_config_json;
    if (!special_tokens_map_json.empty()) files.special_tokens_map_json = special_tokens_map_json;
    return files;
  }
};

// INVALID_ARGUMENT naming the file and field for malformed JSON or wrongly typed values.
absl::StatusOr<SpecialTokensMap> ParseSpecialTokensMap(const TokenizerConfigFiles& files);

// Reads tokenizer_config.json and special_tokens_map.json from `directory` where present.
absl::StatusOr<TokenizerConfigFiles> ReadTokenizerConfigFiles(const std::string& directory);

}  // namespace zett::tokenizer

#endif  // ZETT_CORE_TOKENIZER_SPECIAL_TOKENS_MAP_H_
