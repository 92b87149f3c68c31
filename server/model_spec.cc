#include "server/model_spec.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace zett::server {
namespace {

namespace fs = std::filesystem;

constexpr char kForm[] = "--model takes NAME=BASE_DIR,HYPERNET_DIR";

}  // namespace

absl::StatusOr<ModelSpec> ParseModelSpec(absl::string_view flag) {
  const size_t equals = flag.find('=');
  if (equals == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(kForm, "; got '", flag, "' (no '=')"));
  }
  const absl::string_view dirs = flag.substr(equals + 1);
  const size_t comma = dirs.find(',');
  if (comma == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(kForm, "; got '", flag, "' (no ',' between the two folders)"));
  }
  ModelSpec spec{std::string(flag.substr(0, equals)), std::string(dirs.substr(0, comma)),
                 std::string(dirs.substr(comma + 1))};
  if (spec.name.empty() || spec.name[0] == '.' || spec.name.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(kForm, "; got name '", spec.name,
                                                   "' (non-empty, no '/', not starting with '.')"));
  }
  if (spec.base_dir.empty() || spec.hypernet_dir.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(kForm, "; got '", flag, "' (empty folder)"));
  }
  return spec;
}

absl::StatusOr<std::string> StageModelVersion(const ModelSpec& spec,
                                              const std::string& staging_root) {
  const fs::path version_dir = fs::path(staging_root) / spec.name / "1";
  std::error_code error;
  fs::remove_all(version_dir, error);  // a previous run's links
  fs::create_directories(version_dir, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("cannot create ", version_dir.string(), ": ", error.message()));
  }
  for (const auto& [link, target] :
       {std::pair{"base", spec.base_dir}, std::pair{"hypernet", spec.hypernet_dir}}) {
    if (!fs::is_directory(target)) {
      return absl::NotFoundError(
          absl::StrCat("--model ", spec.name, ": ", link, " folder '", target, "' does not exist"));
    }
    fs::create_directory_symlink(fs::absolute(target), version_dir / link, error);
    if (error) {
      return absl::InternalError(
          absl::StrCat("cannot link ", (version_dir / link).string(), ": ", error.message()));
    }
  }
  return version_dir.string();
}

}  // namespace zett::server
