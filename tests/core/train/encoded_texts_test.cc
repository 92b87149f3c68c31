#include "core/train/encoded_texts.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace zett {
namespace {

constexpr int32_t kBos = 1;

// Documents of ids 100 + document * 10 + position, so a window shows where it came from.
std::vector<std::vector<int32_t>> Documents(const std::vector<int>& lengths) {
  std::vector<std::vector<int32_t>> docs;
  for (size_t d = 0; d < lengths.size(); ++d) {
    std::vector<int32_t> ids;
    for (int i = 0; i < lengths[d]; ++i) ids.push_back(100 + static_cast<int32_t>(d) * 10 + i);
    docs.push_back(ids);
  }
  return docs;
}

TEST(EncodedTextsTest, UnpackedRowsAreOneWindowOfOneDocumentAfterBos) {
  const EncodedTexts texts = EncodedTexts::FromDocuments({Documents({3, 9})});
  EXPECT_EQ(texts.tokens(), 12);
  for (int64_t step = 0; step < 20; ++step) {
    for (const std::vector<int32_t>& row : texts.SampleRows(4, 5, kBos, 0.3, false, 7, step)) {
      ASSERT_GE(row.size(), 2u);
      ASSERT_LE(row.size(), 5u);
      EXPECT_EQ(row[0], kBos);
      // Consecutive ids of one document.
      for (size_t i = 2; i < row.size(); ++i) EXPECT_EQ(row[i], row[i - 1] + 1);
      const int32_t doc = (row[1] - 100) / 10;
      EXPECT_EQ(row.size(), doc == 0 ? 4u : 5u);  // the short one whole, the long one cut
    }
  }
}

TEST(EncodedTextsTest, WindowStartsCoverTheWholeLongDocument) {
  const EncodedTexts texts = EncodedTexts::FromDocuments({Documents({9})});
  std::set<int32_t> firsts, lasts;
  for (int64_t step = 0; step < 200; ++step) {
    for (const std::vector<int32_t>& row : texts.SampleRows(1, 5, kBos, 0.3, false, 0, step)) {
      firsts.insert(row[1]);
      lasts.insert(row.back());
    }
  }
  // 4 ids per window of a 9-id document: starts 0..5, ends 3..8.
  EXPECT_EQ(firsts, (std::set<int32_t>{100, 101, 102, 103, 104, 105}));
  EXPECT_EQ(lasts, (std::set<int32_t>{103, 104, 105, 106, 107, 108}));
}

TEST(EncodedTextsTest, PackedRowsAreFullAndEachDocumentStartsWithBos) {
  const EncodedTexts texts = EncodedTexts::FromDocuments({Documents({2, 3}), Documents({1})});
  for (int64_t step = 0; step < 20; ++step) {
    for (const std::vector<int32_t>& row : texts.SampleRows(3, 11, kBos, 1.0, true, 3, step)) {
      ASSERT_EQ(row.size(), 11u);
      EXPECT_EQ(row[0], kBos);
      for (size_t i = 1; i < row.size(); ++i) {
        // Inside a document ids go up by one; a new document starts at its first id.
        if (row[i] == kBos || row[i - 1] == kBos) continue;
        EXPECT_EQ(row[i], row[i - 1] + 1) << "at " << i;
      }
      for (size_t i = 1; i < row.size(); ++i) {
        if (row[i - 1] == kBos && i > 1) EXPECT_EQ((row[i] - 100) % 10, 0) << "at " << i;
      }
    }
  }
}

TEST(EncodedTextsTest, SameSeedAndStepSameRows) {
  const EncodedTexts texts = EncodedTexts::FromDocuments({Documents({30, 7, 12})});
  EXPECT_EQ(texts.SampleRows(8, 6, kBos, 0.3, true, 5, 11),
            texts.SampleRows(8, 6, kBos, 0.3, true, 5, 11));
  EXPECT_NE(texts.SampleRows(8, 6, kBos, 0.3, true, 5, 11),
            texts.SampleRows(8, 6, kBos, 0.3, true, 5, 12));
}

TEST(EncodedTextsTest, EncodeRunsEveryDocumentAndReturnsTheFirstError) {
  const TrainingTexts texts = TrainingTexts::FromDocuments({{"ab", "cde"}, {"f"}}, {"x", "y"});
  auto lengths = [](const std::string& text) -> absl::StatusOr<std::vector<int32_t>> {
    return std::vector<int32_t>(text.size(), 7);
  };
  absl::StatusOr<EncodedTexts> encoded = EncodedTexts::Encode(texts, lengths, 3);
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_EQ(encoded->tokens(), 6);

  auto fail_on_f = [](const std::string& text) -> absl::StatusOr<std::vector<int32_t>> {
    if (text == "f") return absl::InvalidArgumentError("bad text f");
    return std::vector<int32_t>{1};
  };
  absl::StatusOr<EncodedTexts> failed = EncodedTexts::Encode(texts, fail_on_f, 2);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(failed.status().message(), "bad text f");
}

}  // namespace
}  // namespace zett
