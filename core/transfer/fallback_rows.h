// The guard between a hypernetwork checkpoint and its tokenizer: ids >= original_vocab_size
// (the tokens zett's byte-level conversion adds) index the checkpoint's fallback_embeddings, so
// the conversion must add exactly hn_n_extra_tokens of them, in zett's numbering. A mismatch
// would read the wrong rows silently; it is refused instead.
#ifndef ZETT_CORE_TRANSFER_FALLBACK_ROWS_H_
#define ZETT_CORE_TRANSFER_FALLBACK_ROWS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "core/hypernet/config.h"
#include "core/tokenizer/surface_form.h"

namespace zett {

// The ids the conversion adds beyond original_vocab_size (a checkpoint's tokenizer.json may
// already be converted: then its own extra ids count).
int64_t ConversionExtraTokens(const ZettHypernetConfig& config,
                              const tokenizer::ByteLevelVocabulary& converted);

// FAILED_PRECONDITION with both numbers when they differ.
absl::Status CheckFallbackRows(const ZettHypernetConfig& config,
                               const tokenizer::ByteLevelVocabulary& converted);

}  // namespace zett

#endif  // ZETT_CORE_TRANSFER_FALLBACK_ROWS_H_
