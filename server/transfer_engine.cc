#include "server/transfer_engine.h"

namespace zett::server {

std::vector<v1::Matrix> AvailableMatrices(const ModelMetadata& metadata) {
  std::vector<v1::Matrix> matrices = {v1::MATRIX_INPUT_EMBEDDINGS};
  if (!metadata.tied_embeddings) matrices.push_back(v1::MATRIX_OUTPUT_EMBEDDINGS);
  if (metadata.predicts_bias) matrices.push_back(v1::MATRIX_OUTPUT_BIAS);
  return matrices;
}

uint64_t MatrixCols(const ModelMetadata& metadata, v1::Matrix matrix) {
  return matrix == v1::MATRIX_OUTPUT_BIAS ? 1 : metadata.hidden_size;
}

}  // namespace zett::server
