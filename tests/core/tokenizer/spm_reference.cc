#include "tests/core/tokenizer/spm_reference.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

namespace zett::tokenizer::testing {

bool SpmTrain(const std::string& flags) {
  return sentencepiece::SentencePieceTrainer::Train(flags).ok();
}

std::vector<std::vector<int>> SpmEncode(const std::string& model_bytes,
                                        const std::vector<std::string>& texts) {
  sentencepiece::SentencePieceProcessor processor;
  if (!processor.LoadFromSerializedProto(model_bytes).ok()) return {};
  std::vector<std::vector<int>> out;
  for (const std::string& text : texts) {
    std::vector<int> ids;
    if (!processor.Encode(text, &ids).ok()) return {};
    out.push_back(std::move(ids));
  }
  return out;
}

}  // namespace zett::tokenizer::testing
