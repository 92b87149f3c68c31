// Loads a SentencePiece `.model` (a serialized sentencepiece.ModelProto, proto2) without
// libprotobuf: a small wire-format reader for the fields that define encoding. Field numbers
// follow google/sentencepiece src/sentencepiece_model.proto:
//   ModelProto: pieces=1 {piece=1, score=2 (float), type=3}, trainer_spec=2, normalizer_spec=3
//   TrainerSpec: model_type=3 (UNIGRAM=1, BPE=2, WORD=3, CHAR=4), treat_whitespace_as_suffix=24,
//                byte_fallback=35, unk_id=40, bos_id=41, eos_id=42, pad_id=43
//   NormalizerSpec: name=1, precompiled_charsmap=2, add_dummy_prefix=3,
//                   remove_extra_whitespaces=4, escape_whitespaces=5
//   piece types: NORMAL=1, UNKNOWN=2, CONTROL=3, USER_DEFINED=4, UNUSED=5, BYTE=6
#ifndef ZETT_CORE_TOKENIZER_SENTENCEPIECE_MODEL_H_
#define ZETT_CORE_TOKENIZER_SENTENCEPIECE_MODEL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "core/tokenizer/tokenizer.h"

namespace zett::tokenizer {

struct SentencePieceModelProto {
  struct Piece {
    std::string piece;
    float score = 0;
    int type = 1;
  };
  std::vector<Piece> pieces;
  int model_type = 1;
  bool byte_fallback = false;
  bool treat_whitespace_as_suffix = false;
  int unk_id = 0;
  int bos_id = 1;   // -1: none (as the trainer's flags say)
  int eos_id = 2;   // -1: none
  int pad_id = -1;  // -1: none
  std::string normalizer_name;
  std::string precompiled_charsmap;
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = true;
  bool escape_whitespaces = true;
};

// Parses the serialized proto. Errors name the byte offset of the bad field.
absl::StatusOr<SentencePieceModelProto> ParseSentencePieceModel(std::string_view bytes);

// A Tokenizer that encodes as SentencePiece does: its normalizer (precompiled charsmap,
// whitespace handling, dummy prefix, `▁` escaping), then Unigram (Viterbi) or BPE (merges by
// piece score); CONTROL pieces become special added tokens, USER_DEFINED ones added tokens.
absl::StatusOr<std::unique_ptr<Tokenizer>> LoadSentencePieceModel(std::string_view bytes);

}  // namespace zett::tokenizer

#endif  // ZETT_CORE_TOKENIZER_SENTENCEPIECE_MODEL_H_
