// The document convention of every text file zett trains and evaluates on (data/corpus/*):
// a document is a run of non-empty lines, documents are separated by one or more empty lines,
// and "\r\n" ends a line as "\n" does. One reader, so training, pretraining and evaluation see
// the same documents in the same file.
#ifndef ZETT_CORE_IO_DOCUMENT_READER_H_
#define ZETT_CORE_IO_DOCUMENT_READER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace zett {

// Called with each document (its lines joined by '\n') and the number of lines read so far;
// returns whether to go on reading, or an error that ForEachDocument returns.
using DocumentVisitor = std::function<absl::StatusOr<bool>(std::string document, int64_t lines)>;

// Reads `path` document by document. NotFound if it cannot be opened.
absl::Status ForEachDocument(const std::string& path, const DocumentVisitor& visit);

// Every document of `path`.
absl::StatusOr<std::vector<std::string>> ReadDocuments(const std::string& path);

}  // namespace zett

#endif  // ZETT_CORE_IO_DOCUMENT_READER_H_
