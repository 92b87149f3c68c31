#include "core/transfer/fallback_rows.h"

#include "absl/strings/str_cat.h"

namespace zett {

int64_t ConversionExtraTokens(const ZettHypernetConfig& config,
                              const tokenizer::ByteLevelVocabulary& converted) {
  return static_cast<int64_t>(converted.surface_forms.size()) - config.original_vocab_size;
}

absl::Status CheckFallbackRows(const ZettHypernetConfig& config,
                               const tokenizer::ByteLevelVocabulary& converted) {
  const int64_t added = ConversionExtraTokens(config, converted);
  if (added == config.hn_n_extra_tokens) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "hypernet config.json has hn_n_extra_tokens = ", config.hn_n_extra_tokens,
      ", but zett's byte-level conversion of its tokenizer.json gives ", added,
      " ids beyond original_vocab_size = ", config.original_vocab_size, " (",
      converted.surface_forms.size(),
      " in all): its fallback_embeddings rows would be read for the wrong tokens (was the "
      "checkpoint made for another tokenizer, or with an older conversion?)"));
}

}  // namespace zett
