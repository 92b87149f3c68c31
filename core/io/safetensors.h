// Reading and writing the safetensors format (https://github.com/huggingface/safetensors):
// an 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}},
// then the raw little-endian tensor bytes.
#ifndef ZETT_CORE_IO_SAFETENSORS_H_
#define ZETT_CORE_IO_SAFETENSORS_H_

#include <ATen/ATen.h>

#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace zett {

// Tensors by name, ordered by name (as safetensors writes them).
using TensorMap = std::map<std::string, at::Tensor>;
using SafetensorsMetadata = std::map<std::string, std::string>;

// Reads one .safetensors file into CPU tensors (F32, F16, BF16, F64, I8/16/32/64, U8, BOOL).
// The file is memory-mapped; each tensor owns a copy of its bytes, so the map may be unmapped.
// Errors name the file and say what is wrong: truncated file, header not JSON, offsets out of
// range or overlapping, shape/size mismatch, unknown dtype.
absl::StatusOr<TensorMap> ReadSafetensors(const std::string& path,
                                          SafetensorsMetadata* metadata = nullptr);

// Reads a Hugging Face checkpoint folder: `model.safetensors`, or the shards listed in
// `model.safetensors.index.json` (weight_map). Fails if a listed tensor is missing from its shard.
absl::StatusOr<TensorMap> ReadSafetensorsDir(const std::string& dir);

// Writes tensors (moved to CPU, made contiguous) to one file, written to a temporary name and
// renamed so that readers never see a partial file.
absl::Status WriteSafetensors(const std::string& path, const TensorMap& tensors,
                              const SafetensorsMetadata& metadata = {});

}  // namespace zett

#endif  // ZETT_CORE_IO_SAFETENSORS_H_
