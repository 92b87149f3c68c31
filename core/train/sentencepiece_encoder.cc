#include "core/train/sentencepiece_encoder.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

namespace zett {

SentencePieceEncoder::SentencePieceEncoder()
    : processor_(std::make_unique<sentencepiece::SentencePieceProcessor>()) {}

SentencePieceEncoder::~SentencePieceEncoder() = default;

bool SentencePieceEncoder::Load(const std::string& path, std::string* error) {
  const auto status = processor_->Load(path);
  if (!status.ok()) {
    *error = "loading SentencePiece model " + path + ": " + status.ToString();
    return false;
  }
  return true;
}

std::vector<int> SentencePieceEncoder::Encode(const std::string& text) const {
  std::vector<int> ids;
  processor_->Encode(text, &ids).IgnoreError();
  return ids;
}

int SentencePieceEncoder::vocab_size() const { return processor_->GetPieceSize(); }
int SentencePieceEncoder::bos_id() const { return processor_->bos_id(); }
int SentencePieceEncoder::eos_id() const { return processor_->eos_id(); }
int SentencePieceEncoder::pad_id() const { return processor_->pad_id(); }
int SentencePieceEncoder::unk_id() const { return processor_->unk_id(); }

bool SentencePieceEncoder::Train(const std::string& flags, std::string* error) {
  const auto status = sentencepiece::SentencePieceTrainer::Train(flags);
  if (!status.ok()) {
    *error = "training SentencePiece model: " + status.ToString();
    return false;
  }
  return true;
}

}  // namespace zett
