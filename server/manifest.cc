#include "server/manifest.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/io/sha256.h"
#include "core/util/status_macros.h"

namespace zett::server {
namespace {

namespace fs = std::filesystem;

absl::Status CheckRelativePath(const std::string& path, const std::string& where) {
  if (path.empty() || path.front() == '/') {
    return absl::InvalidArgumentError(absl::StrCat(where, ": path '", path, "' is not relative"));
  }
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (part.empty() || part == "." || part == "..") {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": path '", path, "' has an empty, '.' or '..' part"));
    }
  }
  return absl::OkStatus();
}

bool IsLowerHex64(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace

absl::StatusOr<Manifest> ReadManifest(const std::string& version_dir) {
  const std::string path = absl::StrCat(version_dir, "/", kManifestFileName);
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("no manifest: ", path, " cannot be opened"));
  std::stringstream text;
  text << in.rdbuf();
  Manifest manifest;
  try {
    const nlohmann::json json = nlohmann::json::parse(text.str());
    if (json.value("format", "") != kManifestFormat) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": \"format\" must be \"", kManifestFormat, "\""));
    }
    const auto& files = json.at("files");
    if (!files.is_array()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": \"files\" is not an array"));
    }
    for (size_t i = 0; i < files.size(); ++i) {
      const std::string where = absl::StrCat(path, ": files[", i, "]");
      ManifestEntry entry;
      try {
        entry.path = files[i].at("path").get<std::string>();
        entry.size = files[i].at("size").get<uint64_t>();
        entry.sha256_hex = files[i].at("sha256").get<std::string>();
      } catch (const nlohmann::json::exception& e) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": ", e.what()));
      }
      RETURN_IF_ERROR(CheckRelativePath(entry.path, where));
      if (!IsLowerHex64(entry.sha256_hex)) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": sha256 is not 64 lower-case hex digits"));
      }
      manifest.files.push_back(std::move(entry));
    }
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", e.what()));
  }
  std::sort(manifest.files.begin(), manifest.files.end(),
            [](const ManifestEntry& a, const ManifestEntry& b) { return a.path < b.path; });
  for (size_t i = 1; i < manifest.files.size(); ++i) {
    if (manifest.files[i].path == manifest.files[i - 1].path) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": '", manifest.files[i].path, "' is listed twice"));
    }
  }
  if (manifest.files.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": lists no files"));
  }
  return manifest;
}

absl::Status VerifyManifest(const std::string& version_dir, const Manifest& manifest) {
  // Sizes first: a truncated copy is found without hashing gigabytes.
  for (const ManifestEntry& entry : manifest.files) {
    const std::string path = absl::StrCat(version_dir, "/", entry.path);
    std::error_code error;
    const uint64_t size = fs::file_size(path, error);
    if (error) {
      return absl::DataLossError(absl::StrCat(entry.path, ": listed in the manifest but ",
                                              error.message(), " (", path, ")"));
    }
    if (size != entry.size) {
      return absl::DataLossError(
          absl::StrCat(entry.path, ": size ", size, " bytes, manifest says ", entry.size));
    }
  }
  for (const ManifestEntry& entry : manifest.files) {
    ASSIGN_OR_RETURN(const io::FileDigest digest,
                     io::Sha256File(absl::StrCat(version_dir, "/", entry.path)));
    if (digest.sha256_hex != entry.sha256_hex) {
      return absl::DataLossError(absl::StrCat(entry.path, ": SHA-256 ", digest.sha256_hex,
                                              ", manifest says ", entry.sha256_hex));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Manifest> BuildManifest(const std::string& version_dir) {
  Manifest manifest;
  std::error_code error;
  fs::recursive_directory_iterator it(version_dir, error), end;
  if (error) {
    return absl::NotFoundError(absl::StrCat("cannot list ", version_dir, ": ", error.message()));
  }
  for (; it != end; it.increment(error)) {
    if (error) return absl::InternalError(absl::StrCat(version_dir, ": ", error.message()));
    if (!it->is_regular_file()) continue;
    const std::string relative = fs::relative(it->path(), version_dir).generic_string();
    if (relative == kManifestFileName) continue;
    ASSIGN_OR_RETURN(const io::FileDigest digest, io::Sha256File(it->path().string()));
    manifest.files.push_back({relative, digest.size, digest.sha256_hex});
  }
  std::sort(manifest.files.begin(), manifest.files.end(),
            [](const ManifestEntry& a, const ManifestEntry& b) { return a.path < b.path; });
  return manifest;
}

absl::Status WriteManifest(const std::string& version_dir, const Manifest& manifest) {
  nlohmann::json files = nlohmann::json::array();
  for (const ManifestEntry& entry : manifest.files) {
    files.push_back({{"path", entry.path}, {"size", entry.size}, {"sha256", entry.sha256_hex}});
  }
  const nlohmann::json json = {{"format", kManifestFormat}, {"files", files}};
  const std::string path = absl::StrCat(version_dir, "/", kManifestFileName);
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << json.dump(2) << "\n";
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", temporary));
  }
  std::error_code error;
  fs::rename(temporary, path, error);
  if (error) {
    return absl::InternalError(absl::StrCat("cannot rename ", temporary, ": ", error.message()));
  }
  return absl::OkStatus();
}

}  // namespace zett::server
