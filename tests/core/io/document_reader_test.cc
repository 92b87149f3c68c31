#include "core/io/document_reader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace zett {
namespace {

std::string WriteFile(const std::string& name, const std::string& bytes) {
  const std::string path = (std::filesystem::path(::testing::TempDir()) / name).string();
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

TEST(DocumentReader, EmptyLinesSeparateDocumentsAndCrlfReadsAsLf) {
  const std::string path =
      WriteFile("docs.txt", "first line\r\nsecond\r\n\r\n\r\nnext doc\n\nlast\nno newline");
  auto documents = ReadDocuments(path);
  ASSERT_TRUE(documents.ok()) << documents.status();
  EXPECT_EQ(*documents,
            (std::vector<std::string>{"first line\nsecond", "next doc", "last\nno newline"}));
}

TEST(DocumentReader, VisitorSeesLineCountsAndCanStop) {
  const std::string path = WriteFile("stop.txt", "a\n\nb\nc\n\nd\n");
  std::vector<std::pair<std::string, int64_t>> seen;
  absl::Status status = ForEachDocument(path, [&](std::string document, int64_t lines) {
    seen.emplace_back(document, lines);
    return seen.size() < 2;
  });
  ASSERT_TRUE(status.ok()) << status;
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], (std::pair<std::string, int64_t>{"a", 2}));
  EXPECT_EQ(seen[1], (std::pair<std::string, int64_t>{"b\nc", 5}));
}

TEST(DocumentReader, VisitorErrorsAndMissingFilesAreReturned) {
  const std::string path = WriteFile("error.txt", "a\n\nb\n");
  absl::Status status = ForEachDocument(path, [](std::string, int64_t) -> absl::StatusOr<bool> {
    return absl::InvalidArgumentError("bad document");
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadDocuments("/nonexistent/zett.txt").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace zett
