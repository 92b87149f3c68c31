#include "core/compat/device_choice.h"

#include <gtest/gtest.h>

#include "core/compat/torch_compat.h"

namespace zett {
namespace {

TEST(UseCuda, CpuIsNeverCuda) {
  auto cuda = UseCuda("cpu");
  ASSERT_TRUE(cuda.ok()) << cuda.status();
  EXPECT_FALSE(*cuda);
}

TEST(UseCuda, AutoFollowsTheHost) {
  auto cuda = UseCuda("auto");
  ASSERT_TRUE(cuda.ok()) << cuda.status();
  EXPECT_EQ(*cuda, CudaAvailable());
}

TEST(UseCuda, CudaNeedsADevice) {
  auto cuda = UseCuda("cuda", "--device");
  if (CudaAvailable()) {
    ASSERT_TRUE(cuda.ok()) << cuda.status();
    EXPECT_TRUE(*cuda);
  } else {
    EXPECT_EQ(cuda.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(cuda.status().message(), "--device=cuda: no CUDA device");
  }
}

TEST(UseCuda, UnknownNamesAreRefusedWithTheFlag) {
  auto cuda = UseCuda("gpu", "--eval_device");
  EXPECT_EQ(cuda.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(cuda.status().message(), "--eval_device=gpu: expected auto, cpu or cuda");
}

}  // namespace
}  // namespace zett
