#include "client/apply/model_folder.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace zett::apply {

namespace fs = std::filesystem;

absl::Status CheckOutDir(const std::string& out_dir, const std::vector<InputFolder>& inputs,
                         bool force) {
  if (!fs::exists(out_dir)) return absl::OkStatus();
  std::error_code error;
  for (const InputFolder& input : inputs) {
    if (fs::equivalent(out_dir, input.dir, error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("out dir ", out_dir, " is ", input.what, "; choose another"));
    }
  }
  if (!fs::is_directory(out_dir)) {
    return absl::FailedPreconditionError(absl::StrCat(out_dir, " exists and is not a folder"));
  }
  if (!fs::is_empty(out_dir) && !force) {
    return absl::FailedPreconditionError(
        absl::StrCat(out_dir, " exists and is not empty (--force replaces it)"));
  }
  return absl::OkStatus();
}

std::string BesideOutDir(const std::string& out_dir, const std::string& suffix) {
  std::string out = fs::path(out_dir).lexically_normal().string();
  if (absl::EndsWith(out, "/")) out.pop_back();
  return out + suffix;
}

absl::Status WriteThroughStaging(const std::string& out_dir,
                                 const std::function<absl::Status(const std::string&)>& write) {
  const std::string staging = BesideOutDir(out_dir, ".partial");
  std::error_code error;
  fs::remove_all(staging, error);
  fs::create_directories(staging, error);
  if (error) {
    return absl::InternalError(absl::StrCat("cannot create ", staging, ": ", error.message()));
  }
  if (absl::Status written = write(staging); !written.ok()) {
    fs::remove_all(staging, error);
    return written;
  }
  fs::remove_all(out_dir, error);
  if (error) {
    return absl::InternalError(absl::StrCat("cannot replace ", out_dir, ": ", error.message()));
  }
  fs::rename(staging, out_dir, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("cannot rename ", staging, " to ", out_dir, ": ", error.message()));
  }
  return absl::OkStatus();
}

}  // namespace zett::apply
