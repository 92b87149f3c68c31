#include "client/remote/embeddings_writer.h"

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "proto/wire/tensor_names.h"

namespace zett::client {

absl::StatusOr<TensorMap> TransferTensors(const TransferResult& result) {
  at::ScalarType type = at::kFloat;
  if (result.header.dtype() == v1::DTYPE_BF16) type = at::kBFloat16;
  if (result.header.dtype() == v1::DTYPE_FP16) type = at::kHalf;
  TensorMap tensors;
  try {
    for (const auto& [matrix, data] : result.matrices) {
      std::vector<int64_t> shape = {static_cast<int64_t>(data.rows)};
      if (matrix != v1::MATRIX_OUTPUT_BIAS) shape.push_back(static_cast<int64_t>(data.cols));
      // from_blob does not own the bytes; clone() copies them into the tensor.
      tensors[wire::TensorName(matrix)] =
          at::from_blob(const_cast<char*>(data.bytes.data()), shape, at::TensorOptions(type))
              .clone();
    }
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("building tensors: ", e.what()));
  }
  return tensors;
}

absl::Status WriteTransferResult(const std::string& dir, const TransferResult& result) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", error.message()));

  std::string dtype_name = "fp32";
  if (result.header.dtype() == v1::DTYPE_BF16) dtype_name = "bf16";
  if (result.header.dtype() == v1::DTYPE_FP16) dtype_name = "fp16";
  absl::StatusOr<TensorMap> tensors = TransferTensors(result);
  if (!tensors.ok()) return tensors.status();
  const SafetensorsMetadata metadata = {
      {"format", "pt"},
      {"zett_model", result.header.model()},
      {"zett_version", absl::StrCat(result.header.version())},
      {"zett_dtype", dtype_name},
      {"zett_tied_embeddings", result.header.tied_embeddings() ? "true" : "false"}};
  if (absl::Status status =
          WriteSafetensors(absl::StrCat(dir, "/", kEmbeddingsFile), *tensors, metadata);
      !status.ok()) {
    return status;
  }

  nlohmann::json vocabulary = nlohmann::json::array();
  for (const v1::TokenEntry& entry : result.vocabulary) {
    vocabulary.push_back({{"id", entry.id()},
                          {"token", entry.token()},
                          {"special", entry.special()},
                          {"truncated", entry.truncated()},
                          {"added", entry.added()},
                          {"copied", entry.copied()}});
  }
  const std::string path = absl::StrCat(dir, "/", kVocabularyFile);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  // Byte-level surface forms are valid UTF-8; `replace` keeps a foreign token list writable.
  out << vocabulary.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace zett::client
