// Held-out text for evaluation: data/corpus/test/<lang>.txt, where a line is a paragraph and a
// blank line ends a document. Documents are evaluated independently (evaluation.h).
#ifndef ZETT_CORE_EVAL_EVAL_TEXT_H_
#define ZETT_CORE_EVAL_EVAL_TEXT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace zett {

struct EvalText {
  std::string path;
  std::string language;                // file stem ("de" for data/corpus/test/de.txt)
  std::vector<std::string> documents;  // paragraphs joined by '\n'
  int64_t bytes = 0;                   // UTF-8 bytes of all documents (what bits/byte divides by)
};

// Reads `path`. With max_bytes > 0, keeps the leading documents up to max_bytes bytes in total,
// cutting the last one at a UTF-8 character boundary. NOT_FOUND for a missing file,
// INVALID_ARGUMENT for a file without any text or with invalid UTF-8.
absl::StatusOr<EvalText> LoadEvalText(const std::string& path, int64_t max_bytes = 0);

}  // namespace zett

#endif  // ZETT_CORE_EVAL_EVAL_TEXT_H_
