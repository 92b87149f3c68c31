// Encoding fp32 rows into the wire dtypes of zett.v1: raw little-endian, row-major, no padding.
#ifndef ZETT_PROTO_WIRE_DTYPE_CODEC_H_
#define ZETT_PROTO_WIRE_DTYPE_CODEC_H_

#include <cstdint>
#include <string>

#include "absl/types/span.h"
#include "proto/zett/v1/zett.pb.h"

namespace zett::wire {

// Bytes per value: 4 for fp32 (and UNSPECIFIED, which means fp32), 2 for bf16/fp16.
size_t DTypeSize(v1::DType dtype);

// UNSPECIFIED → FP32; every other known value as is.
v1::DType ResolveDType(v1::DType dtype);

// Round-to-nearest-even conversions (NaN stays NaN, overflow becomes ±inf), as PyTorch's
// Tensor.to(torch.bfloat16 / torch.float16) does.
uint16_t FloatToBf16(float value);
uint16_t FloatToFp16(float value);
float Bf16ToFloat(uint16_t bits);
float Fp16ToFloat(uint16_t bits);

// Appends `values` in `dtype` to `out` (little-endian).
void AppendEncoded(absl::Span<const float> values, v1::DType dtype, std::string* out);

}  // namespace zett::wire

#endif  // ZETT_PROTO_WIRE_DTYPE_CODEC_H_
