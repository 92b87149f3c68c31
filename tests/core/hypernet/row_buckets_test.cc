#include "core/hypernet/row_buckets.h"

#include <algorithm>
#include <cstdint>
#include <vector>

#include "gtest/gtest.h"

namespace zett {
namespace {

TEST(RowBucketsTest, SmallCountsAreTheirOwnBucket) {
  for (int64_t rows = 1; rows <= 4; ++rows) EXPECT_EQ(BucketRows(rows, 4), rows);
}

TEST(RowBucketsTest, RoundsUpToFourSizesPerOctave) {
  EXPECT_EQ(BucketRows(5, 4), 5);
  EXPECT_EQ(BucketRows(9, 4), 10);
  EXPECT_EQ(BucketRows(17, 4), 20);
  EXPECT_EQ(BucketRows(20, 4), 20);
  EXPECT_EQ(BucketRows(700, 4), 768);
  EXPECT_EQ(BucketRows(4096, 4), 4096);
  EXPECT_EQ(BucketRows(4097, 4), 5120);
}

TEST(RowBucketsTest, PaddingStaysUnderOneOverPerOctave) {
  for (int64_t per_octave : {1, 2, 4, 8}) {
    for (int64_t rows = 1; rows <= 20000; ++rows) {
      const int64_t bucket = BucketRows(rows, per_octave);
      ASSERT_GE(bucket, rows);
      ASSERT_LT(bucket - rows, rows / per_octave + 1) << rows << " per_octave " << per_octave;
    }
  }
}

TEST(RowBucketsTest, ZeroPerOctaveKeepsRows) { EXPECT_EQ(BucketRows(777, 0), 777); }

TEST(RowBucketsTest, ListsEveryBucketOnce) {
  const std::vector<int64_t> buckets = RowBuckets(40, 4);
  EXPECT_EQ(buckets,
            (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40}));
  const std::vector<int64_t> all = RowBuckets(4096, 4);
  for (int64_t rows = 1; rows <= 4096; ++rows) {
    ASSERT_NE(std::find(all.begin(), all.end(), BucketRows(rows, 4)), all.end()) << rows;
  }
}

}  // namespace
}  // namespace zett
