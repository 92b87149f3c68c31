// The part of a post-processor that matters for ids of a single sequence: which special tokens
// go before and after it (TemplateProcessing "single", Bert/Roberta cls+sep; ByteLevel adds
// none). Used only when the caller asks for special tokens.
#ifndef ZETT_CORE_TOKENIZER_POST_PROCESSOR_H_
#define ZETT_CORE_TOKENIZER_POST_PROCESSOR_H_

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace zett::tokenizer {

class PostProcessor {
 public:
  // Null JSON gives the identity. `depth` counts enclosing Sequences (bounded).
  static absl::StatusOr<PostProcessor> FromJson(const nlohmann::json& json, std::string_view path,
                                                int depth = 0);
  std::vector<int32_t> Process(std::vector<int32_t> ids) const;

 private:
  std::vector<int32_t> prefix_, suffix_;
};

}  // namespace zett::tokenizer

#endif  // ZETT_CORE_TOKENIZER_POST_PROCESSOR_H_
