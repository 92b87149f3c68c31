// A SentencePiece model, for turning training text into ids. The implementation file includes
// <sentencepiece_processor.h>, which declares `namespace absl { using std::string_view; }` and
// so cannot share a translation unit with Debian's Abseil (whose absl::string_view is its own
// class); this header therefore exposes plain C++ only.
#ifndef ZETT_CORE_TRAIN_SENTENCEPIECE_ENCODER_H_
#define ZETT_CORE_TRAIN_SENTENCEPIECE_ENCODER_H_

#include <memory>
#include <string>
#include <vector>

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace zett {

class SentencePieceEncoder {
 public:
  SentencePieceEncoder();
  ~SentencePieceEncoder();

  // Loads a `.model` file; on failure returns false and sets `error`.
  bool Load(const std::string& path, std::string* error);

  // Ids of `text` (no BOS/EOS added). Thread-safe after Load.
  std::vector<int> Encode(const std::string& text) const;

  int vocab_size() const;
  int bos_id() const;  // -1 when the model has none
  int eos_id() const;
  int pad_id() const;
  int unk_id() const;

  // Trains a model with spm_train's flags ("--input=a.txt --model_prefix=out --vocab_size=…");
  // on failure returns false and sets `error`. Used to make test fixtures.
  static bool Train(const std::string& flags, std::string* error);

 private:
  std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
};

}  // namespace zett

#endif  // ZETT_CORE_TRAIN_SENTENCEPIECE_ENCODER_H_
