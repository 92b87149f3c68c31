#include "core/hypernet/checkpoint.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "core/hypernet/config.h"
#include "core/io/safetensors.h"
#include "core/util/status_macros.h"

namespace zett {
namespace {

namespace fs = std::filesystem;

absl::Status WithContext(const absl::Status& status, const std::string& context) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(context, ": ", status.message()));
}

}  // namespace

std::string HypernetTokenizerPath(const std::string& dir) {
  return (fs::path(dir) / "tokenizer.json").string();
}

absl::StatusOr<Hypernet> LoadHypernet(const std::string& dir) {
  const std::string context = absl::StrCat("loading hypernet from ", dir);
  ASSIGN_OR_RETURN(ZettHypernetConfig config,
                   ReadHypernetConfig((fs::path(dir) / "config.json").string()));
  auto tensors = ReadSafetensorsDir(dir);
  if (!tensors.ok()) return WithContext(tensors.status(), context);
  auto hypernet = Hypernet::FromStateDict(config, *tensors);
  if (!hypernet.ok()) return WithContext(hypernet.status(), context);
  return hypernet;
}

absl::Status SaveHypernet(const std::string& dir, const Hypernet& hypernet,
                          const std::string& tokenizer_json) {
  const std::string context = absl::StrCat("saving hypernet to ", dir);
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) {
    return absl::InternalError(absl::StrCat(context, ": cannot create folder: ", error.message()));
  }
  RETURN_IF_ERROR(WithContext(
      WriteHypernetConfig((fs::path(dir) / "config.json").string(), hypernet.config()), context));
  RETURN_IF_ERROR(WithContext(WriteSafetensors((fs::path(dir) / "model.safetensors").string(),
                                               hypernet.StateDict(), {{"format", "pt"}}),
                              context));
  if (!tokenizer_json.empty()) {
    const fs::path target = HypernetTokenizerPath(dir);
    if (fs::exists(target) && fs::equivalent(tokenizer_json, target, error)) {
      return absl::OkStatus();
    }
    fs::copy_file(tokenizer_json, target, fs::copy_options::overwrite_existing, error);
    if (error) {
      return absl::NotFoundError(
          absl::StrCat(context, ": cannot copy ", tokenizer_json, ": ", error.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace zett
