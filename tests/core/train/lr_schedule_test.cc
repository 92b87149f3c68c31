#include "core/train/lr_schedule.h"

#include <gtest/gtest.h>

namespace zett {
namespace {

TEST(WarmupCosineScheduleTest, WarmsUpLinearlyThenDecaysToTheFloor) {
  WarmupCosineSchedule s{/*peak=*/1e-3, /*warmup_steps=*/10, /*total_steps=*/110,
                         /*min_ratio=*/0.1};
  EXPECT_DOUBLE_EQ(s.At(0), 1e-3 / 10);
  EXPECT_DOUBLE_EQ(s.At(4), 5e-3 / 10);
  EXPECT_DOUBLE_EQ(s.At(9), 1e-3);
  EXPECT_DOUBLE_EQ(s.At(10), 1e-3);                        // cosine starts at the peak
  EXPECT_NEAR(s.At(60), 1e-3 * (0.1 + 0.9 * 0.5), 1e-12);  // half-way: cos = 0
  EXPECT_NEAR(s.At(110), 1e-4, 1e-12);
  EXPECT_NEAR(s.At(500), 1e-4, 1e-12);  // stays at the floor
  for (int64_t step = 10; step < 110; ++step) EXPECT_LE(s.At(step + 1), s.At(step));
}

}  // namespace
}  // namespace zett
