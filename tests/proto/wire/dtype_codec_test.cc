// Wire dtypes: fp16 against the compiler's IEEE _Float16 conversion (round to nearest even) over
// every fp16 value, midpoints and random floats; bf16 against a reference that picks the nearer
// of the two neighbouring bf16 values in double precision (ties to even).
#include "proto/wire/dtype_codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

namespace zett::wire {
namespace {

uint16_t CompilerFp16(float value) {
  const _Float16 half = static_cast<_Float16>(value);
  uint16_t bits;
  std::memcpy(&bits, &half, sizeof(bits));
  return bits;
}

uint16_t ReferenceBf16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  const uint16_t down = static_cast<uint16_t>(bits >> 16);
  if (std::isinf(value) || (bits & 0xffff) == 0) return down;
  const uint16_t up = static_cast<uint16_t>(down + 1);
  const double error_down = std::fabs(static_cast<double>(Bf16ToFloat(down)) - value);
  // Past the largest bf16, "up" is infinity; IEEE rounding measures it as 2^128.
  const double up_value = (up & 0x7fff) == 0x7f80 ? std::copysign(std::ldexp(1.0, 128), value)
                                                  : static_cast<double>(Bf16ToFloat(up));
  const double error_up = std::fabs(up_value - value);
  if (error_down != error_up) return error_down < error_up ? down : up;
  return (down & 1) == 0 ? down : up;
}

std::vector<float> TestValues() {
  std::vector<float> values = {0.0f,
                               -0.0f,
                               1.0f,
                               -1.0f,
                               65504.0f,
                               65519.99f,
                               65520.0f,
                               1e-8f,
                               -3e-5f,
                               6.1e-5f,
                               5.96e-8f,
                               2.98e-8f,
                               1e30f,
                               -1e30f,
                               std::numeric_limits<float>::infinity(),
                               std::numeric_limits<float>::denorm_min()};
  for (uint32_t h = 0; h < 0x7c00; ++h) {  // every finite positive fp16, its midpoints, negatives
    const float f = Fp16ToFloat(static_cast<uint16_t>(h));
    const float next = Fp16ToFloat(static_cast<uint16_t>(h + 1));
    values.push_back(f);
    values.push_back(-f);
    values.push_back(f + (next - f) / 2);
  }
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> bits;
  for (int i = 0; i < 200000; ++i) {
    uint32_t b = bits(rng);
    float f;
    std::memcpy(&f, &b, sizeof(f));
    if (!std::isnan(f)) values.push_back(f);
  }
  return values;
}

TEST(DTypeCodecTest, Fp16MatchesIeeeConversion) {
  for (float value : TestValues()) {
    ASSERT_EQ(FloatToFp16(value), CompilerFp16(value)) << value;
  }
  EXPECT_TRUE(std::isnan(Fp16ToFloat(FloatToFp16(std::nanf("")))));
}

TEST(DTypeCodecTest, Fp16DecodesEveryValueLikeTheCompiler) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    _Float16 half;
    const uint16_t bits = static_cast<uint16_t>(h);
    std::memcpy(&half, &bits, sizeof(bits));
    const float expected = static_cast<float>(half);
    const float got = Fp16ToFloat(bits);
    if (std::isnan(expected)) {
      EXPECT_TRUE(std::isnan(got));
    } else {
      ASSERT_EQ(std::memcmp(&got, &expected, sizeof(float)), 0) << h;
    }
  }
}

TEST(DTypeCodecTest, Bf16RoundsToNearestEven) {
  for (float value : TestValues()) {
    ASSERT_EQ(FloatToBf16(value), ReferenceBf16(value)) << value;
  }
  EXPECT_TRUE(std::isnan(Bf16ToFloat(FloatToBf16(std::nanf("")))));
}

TEST(DTypeCodecTest, EncodesLittleEndianRowMajor) {
  const std::vector<float> values = {1.5f, -2.25f, 3.0f};
  for (v1::DType dtype : {v1::DTYPE_FP32, v1::DTYPE_BF16, v1::DTYPE_FP16, v1::DTYPE_UNSPECIFIED}) {
    std::string out;
    AppendEncoded(values, dtype, &out);
    ASSERT_EQ(out.size(), values.size() * DTypeSize(dtype));
    for (size_t i = 0; i < values.size(); ++i) {
      const auto* p = reinterpret_cast<const unsigned char*>(out.data()) + i * DTypeSize(dtype);
      if (DTypeSize(dtype) == 4) {
        const uint32_t bits = p[0] | p[1] << 8 | p[2] << 16 | static_cast<uint32_t>(p[3]) << 24;
        float f;
        std::memcpy(&f, &bits, sizeof(f));
        EXPECT_EQ(f, values[i]);
      } else {
        const uint16_t bits = static_cast<uint16_t>(p[0] | p[1] << 8);
        EXPECT_EQ(dtype == v1::DTYPE_BF16 ? Bf16ToFloat(bits) : Fp16ToFloat(bits), values[i]);
      }
    }
  }
}

}  // namespace
}  // namespace zett::wire
