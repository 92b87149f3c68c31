#include "core/eval/windows.h"

#include <gtest/gtest.h>

#include <vector>

namespace zett {
namespace {

// Every token s[1..n] of every sequence is predicted by exactly one window, and no window reads
// more than seq_len inputs.
TEST(SplitIntoWindows, PredictsEveryTokenExactlyOnce) {
  const std::vector<int64_t> lengths = {1, 2, 5, 9, 10, 11, 33};
  for (int64_t seq_len : {1, 2, 3, 8, 9, 10, 64}) {
    const std::vector<Window> windows = SplitIntoWindows(lengths, seq_len);
    std::vector<std::vector<int>> predicted(lengths.size());
    for (size_t s = 0; s < lengths.size(); ++s) predicted[s].assign(lengths[s], 0);
    for (const Window& w : windows) {
      ASSERT_GE(w.length, 1);
      ASSERT_LE(w.length, seq_len);
      for (int64_t t = 0; t < w.length; ++t) ++predicted[w.sequence][w.start + t + 1];
    }
    for (size_t s = 0; s < lengths.size(); ++s) {
      EXPECT_EQ(predicted[s][0], 0) << "BOS is never predicted";
      for (int64_t i = 1; i < lengths[s]; ++i) {
        EXPECT_EQ(predicted[s][i], 1)
            << "seq_len " << seq_len << " sequence " << s << " token " << i;
      }
    }
  }
}

TEST(SplitIntoWindows, ConsecutiveWindowsStartWhereTheLastOneStopped) {
  const std::vector<Window> windows = SplitIntoWindows({11}, 4);
  ASSERT_EQ(windows.size(), 3u);  // 10 tokens to predict: 4 + 4 + 2
  EXPECT_EQ(windows[0].start, 0);
  EXPECT_EQ(windows[1].start, 4);
  EXPECT_EQ(windows[2].start, 8);
  EXPECT_EQ(windows[2].length, 2);
}

TEST(SplitIntoWindows, NothingToPredictGivesNoWindows) {
  EXPECT_TRUE(SplitIntoWindows({0, 1}, 4).empty());
  EXPECT_TRUE(SplitIntoWindows({5}, 0).empty());
}

}  // namespace
}  // namespace zett
