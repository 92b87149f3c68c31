// The name each zett.v1 matrix has outside the stream (embeddings.safetensors, `zett transfer`'s
// summary), so that every client writes the same files.
#ifndef ZETT_PROTO_WIRE_TENSOR_NAMES_H_
#define ZETT_PROTO_WIRE_TENSOR_NAMES_H_

#include <string>

#include "proto/zett/v1/zett.pb.h"

namespace zett::wire {

// "input_embeddings", "output_embeddings", "output_bias"; "matrix_<n>" for a value this build
// does not know.
std::string TensorName(v1::Matrix matrix);

}  // namespace zett::wire

#endif  // ZETT_PROTO_WIRE_TENSOR_NAMES_H_
