// The original SentencePiece tokenizer, for turning training text into ids. Encoding goes
// through core/tokenizer's protobuf-free `.model` reader rather than libsentencepiece: Debian's
// libsentencepiece carries its own protobuf 3.14 runtime, which aborts at start-up in any
// process that also loads LibTorch's libprotobuf 3.21.
#ifndef ZETT_CORE_TRAIN_SENTENCEPIECE_ENCODER_H_
#define ZETT_CORE_TRAIN_SENTENCEPIECE_ENCODER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/tokenizer/tokenizer.h"

namespace zett {

class SentencePieceEncoder {
 public:
  // Loads a `.model` file. Special ids are those of the CONTROL pieces <s>, </s>, <pad>.
  static absl::StatusOr<SentencePieceEncoder> Load(const std::string& path);

  // Ids of `text` (no BOS/EOS added). Thread-safe. Fails on invalid UTF-8.
  absl::StatusOr<std::vector<int32_t>> Encode(const std::string& text) const;

  int vocab_size() const { return vocab_size_; }
  int bos_id() const { return bos_id_; }  // -1 when the model has none
  int eos_id() const { return eos_id_; }
  int pad_id() const { return pad_id_; }

 private:
  std::shared_ptr<const tokenizer::Tokenizer> tokenizer_;
  int vocab_size_ = 0, bos_id_ = -1, eos_id_ = -1, pad_id_ = -1;
};

}  // namespace zett

#endif  // ZETT_CORE_TRAIN_SENTENCEPIECE_ENCODER_H_
