#include "proto/wire/tensor_names.h"

#include "absl/strings/str_cat.h"

namespace zett::wire {

std::string TensorName(v1::Matrix matrix) {
  switch (matrix) {
    case v1::MATRIX_INPUT_EMBEDDINGS:
      return "input_embeddings";
    case v1::MATRIX_OUTPUT_EMBEDDINGS:
      return "output_embeddings";
    case v1::MATRIX_OUTPUT_BIAS:
      return "output_bias";
    default:
      return absl::StrCat("matrix_", static_cast<int>(matrix));
  }
}

}  // namespace zett::wire
