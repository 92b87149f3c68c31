#include <c10/core/GradMode.h>

#include <iostream>

#include "absl/strings/str_cat.h"
#include "core/compat/torch_compat.h"
#include "core/io/json_file.h"
#include "core/io/safetensors.h"
#include "core/model/pretrained.h"
#include "core/train/command_line.h"
#include "core/train/commands.h"
#include "core/util/status_macros.h"

namespace zett {
namespace {

// JSON rows of equal length → int64 [B, T].
absl::StatusOr<at::Tensor> Rows(const nlohmann::json& rows, const std::string& what) {
  if (!rows.is_array() || rows.empty() || !rows[0].is_array() || rows[0].empty()) {
    return absl::InvalidArgumentError(what + " must be a non-empty list of non-empty lists");
  }
  const size_t t = rows[0].size();
  std::vector<int64_t> flat;
  for (const auto& row : rows) {
    if (!row.is_array() || row.size() != t) {
      return absl::InvalidArgumentError(what + ": rows must all have the same length");
    }
    for (const auto& v : row) {
      if (!v.is_number_integer()) return absl::InvalidArgumentError(what + ": non-integer");
      flat.push_back(v.get<int64_t>());
    }
  }
  return at::tensor(flat, at::kLong)
      .view({static_cast<int64_t>(rows.size()), static_cast<int64_t>(t)});
}

absl::Status Run(const std::vector<std::string>& args) {
  ASSIGN_OR_RETURN(CommandLine flags, CommandLine::Parse(args));
  ASSIGN_OR_RETURN(std::string model_dir, flags.GetRequiredString("model"));
  ASSIGN_OR_RETURN(std::string ids_path, flags.GetRequiredString("ids"));
  ASSIGN_OR_RETURN(std::string out_path, flags.GetRequiredString("out"));
  const std::string device_name = flags.GetString("device", "cpu");
  ASSIGN_OR_RETURN(at::ScalarType dtype, ParseDtype(flags.GetString("dtype", "float32")));
  RETURN_IF_ERROR(flags.CheckAllUsed());
  if (device_name == "cuda" && !CudaAvailable()) {
    return absl::FailedPreconditionError("--device=cuda but no CUDA device is available");
  }
  BackboneOptions options;
  options.device = device_name == "cuda" ? at::Device(at::kCUDA) : at::Device(at::kCPU);
  options.dtype = dtype;
  ASSIGN_OR_RETURN(PretrainedBackbone model, LoadPretrainedBackbone(model_dir, options));

  ASSIGN_OR_RETURN(nlohmann::json ids_json, ReadJsonFile(ids_path));
  if (!ids_json.is_object() || !ids_json.contains("input_ids")) {
    return absl::InvalidArgumentError(ids_path + ": expected {\"input_ids\": [[...]], ...}");
  }
  ASSIGN_OR_RETURN(at::Tensor input_ids, Rows(ids_json["input_ids"], ids_path + " input_ids"));
  at::Tensor attention_mask;
  if (ids_json.contains("attention_mask")) {
    ASSIGN_OR_RETURN(attention_mask,
                     Rows(ids_json["attention_mask"], ids_path + " attention_mask"));
    if (!attention_mask.sizes().equals(input_ids.sizes())) {
      return absl::InvalidArgumentError(ids_path +
                                        ": attention_mask and input_ids differ in shape");
    }
    attention_mask = attention_mask.to(options.device);
  }
  at::Tensor logits;
  try {
    c10::NoGradGuard no_grad;
    logits = model.Logits(input_ids.to(options.device), attention_mask).to(at::kCPU, at::kFloat);
  } catch (const c10::Error& e) {
    return absl::InternalError(
        absl::StrCat("forward of ", model_dir, ": ", e.what_without_backtrace()));
  }
  RETURN_IF_ERROR(WriteSafetensors(out_path, {{"logits", logits}}));
  std::cout << "wrote logits " << logits.sizes() << " to " << out_path << "\n";
  return absl::OkStatus();
}

}  // namespace

int LogitsCommand(const std::vector<std::string>& args) {
  // Run() parses and runs in one: every error exits 1.
  return RunSubcommand("logits", absl::StatusOr<std::vector<std::string>>(args), Run);
}

}  // namespace zett
