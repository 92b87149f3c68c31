// libsentencepiece as the reference, behind a header free of Abseil: Debian's
// sentencepiece_processor.h declares its own absl::string_view, which clashes with Abseil's.
#ifndef ZETT_TESTS_CORE_TOKENIZER_SPM_REFERENCE_H_
#define ZETT_TESTS_CORE_TOKENIZER_SPM_REFERENCE_H_

#include <string>
#include <vector>

namespace zett::tokenizer::testing {

// SentencePieceTrainer::Train(flags); false on failure.
bool SpmTrain(const std::string& flags);
// Ids of each text under the serialized model; empty outer vector when the model does not load.
std::vector<std::vector<int>> SpmEncode(const std::string& model_bytes,
                                        const std::vector<std::string>& texts);

}  // namespace zett::tokenizer::testing

#endif  // ZETT_TESTS_CORE_TOKENIZER_SPM_REFERENCE_H_
