#include "core/compat/kernel_trace.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "core/compat/torch_compat.h"

namespace zett {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// With Kineto (the GPU hosts' LibTorch) the trace names the matmul and, on CUDA, its kernels;
// without it (Debian's) stopping says why and leaves the process usable.
TEST(KernelTraceTest, TracesAMatmulOrSaysWhyNot) {
  const bool cuda = CudaAvailable();
  const at::Device device = cuda ? at::Device("cuda") : at::Device("cpu");
  const std::string path = ::testing::TempDir() + "/kernel_trace_test.json";
  std::remove(path.c_str());
  ASSERT_TRUE(StartKernelTrace().ok());
  at::Tensor a = at::randn({256, 256}, at::TensorOptions().device(device));
  float sum = at::matmul(a, a).sum().item<float>();
  (void)sum;
  const absl::Status stopped = StopKernelTrace(path);
  if (!stopped.ok()) {
    EXPECT_EQ(stopped.code(), absl::StatusCode::kFailedPrecondition) << stopped;
    EXPECT_NE(stopped.message().find("Kineto"), std::string::npos) << stopped;
    EXPECT_EQ(at::matmul(a, a).size(0), 256);  // still works after a refused trace
    GTEST_SKIP() << "this LibTorch has no Kineto: " << stopped.message();
  }
  const std::string trace = ReadAll(path);
  EXPECT_NE(trace.find("traceEvents"), std::string::npos);
  EXPECT_NE(trace.find("aten::mm"), std::string::npos);
  if (cuda) EXPECT_NE(trace.find("\"cat\": \"kernel\""), std::string::npos);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace zett
