#include "core/train/sentencepiece_encoder.h"

#include "absl/strings/str_cat.h"
#include "core/io/json_file.h"
#include "core/tokenizer/sentencepiece_model.h"
#include "core/util/status_macros.h"

namespace zett {

absl::StatusOr<SentencePieceEncoder> SentencePieceEncoder::Load(const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
  auto proto = tokenizer::ParseSentencePieceModel(bytes);
  if (!proto.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", proto.status().message()));
  }
  auto loaded = tokenizer::LoadSentencePieceModel(bytes);
  if (!loaded.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", loaded.status().message()));
  }
  SentencePieceEncoder encoder;
  encoder.tokenizer_ = std::move(loaded).value();
  encoder.vocab_size_ = static_cast<int>(proto->pieces.size());
  constexpr int kControl = 3;
  for (size_t id = 0; id < proto->pieces.size(); ++id) {
    const auto& piece = proto->pieces[id];
    if (piece.type != kControl) continue;
    if (piece.piece == "<s>") encoder.bos_id_ = static_cast<int>(id);
    if (piece.piece == "</s>") encoder.eos_id_ = static_cast<int>(id);
    if (piece.piece == "<pad>") encoder.pad_id_ = static_cast<int>(id);
  }
  return encoder;
}

absl::StatusOr<std::vector<int32_t>> SentencePieceEncoder::Encode(const std::string& text) const {
  return tokenizer_->Encode(text, /*add_special_tokens=*/false);
}

}  // namespace zett
