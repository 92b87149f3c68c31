#include "proto/wire/dtype_codec.h"

#include <cmath>
#include <cstring>

namespace zett::wire {
namespace {

uint32_t FloatBits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

float BitsFloat(uint32_t bits) {
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

void AppendLittleEndian16(uint16_t v, std::string* out) {
  out->push_back(static_cast<char>(v & 0xff));
  out->push_back(static_cast<char>(v >> 8));
}

}  // namespace

size_t DTypeSize(v1::DType dtype) {
  return (dtype == v1::DTYPE_BF16 || dtype == v1::DTYPE_FP16) ? 2 : 4;
}

v1::DType ResolveDType(v1::DType dtype) {
  return dtype == v1::DTYPE_UNSPECIFIED ? v1::DTYPE_FP32 : dtype;
}

uint16_t FloatToBf16(float value) {
  const uint32_t bits = FloatBits(value);
  if (std::isnan(value)) return static_cast<uint16_t>((bits >> 16) | 0x40);  // quiet NaN
  const uint32_t rounding = 0x7fff + ((bits >> 16) & 1);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

uint16_t FloatToFp16(float value) {
  const uint32_t bits = FloatBits(value);
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000);
  const uint32_t magnitude = bits & 0x7fffffff;
  if (magnitude > 0x7f800000) return sign | 0x7e00;   // NaN
  if (magnitude >= 0x477ff000) return sign | 0x7c00;  // rounds to ≥ 65520: inf
  if (magnitude < 0x38800000) {                       // below 2^-14: subnormal or 0
    // value * 2^24 rounded to nearest even gives the subnormal mantissa.
    const float scaled = std::fabs(value) * 16777216.0f;  // exact: power-of-two scale
    const float rounded = std::nearbyint(scaled);         // default mode: ties to even
    return sign | static_cast<uint16_t>(rounded);
  }
  // Normal: rebias the exponent (127 → 15) and round the 23-bit mantissa to 10 bits.
  const uint32_t rebased = magnitude - (112u << 23);
  const uint32_t rounding = 0xfff + ((rebased >> 13) & 1);
  return sign | static_cast<uint16_t>((rebased + rounding) >> 13);
}

float Bf16ToFloat(uint16_t bits) { return BitsFloat(static_cast<uint32_t>(bits) << 16); }

float Fp16ToFloat(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1f;
  const uint32_t mantissa = bits & 0x3ff;
  if (exponent == 0) {
    const float value = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -value : value;
  }
  if (exponent == 31) return BitsFloat(sign | 0x7f800000 | (mantissa << 13));
  return BitsFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

void AppendEncoded(absl::Span<const float> values, v1::DType dtype, std::string* out) {
  switch (ResolveDType(dtype)) {
    case v1::DTYPE_BF16:
      out->reserve(out->size() + values.size() * 2);
      for (float v : values) AppendLittleEndian16(FloatToBf16(v), out);
      return;
    case v1::DTYPE_FP16:
      out->reserve(out->size() + values.size() * 2);
      for (float v : values) AppendLittleEndian16(FloatToFp16(v), out);
      return;
    default:
      out->reserve(out->size() + values.size() * 4);
      for (float v : values) {
        const uint32_t bits = FloatBits(v);
        for (int shift = 0; shift < 32; shift += 8)
          out->push_back(static_cast<char>(bits >> shift));
      }
      return;
  }
}

}  // namespace zett::wire
